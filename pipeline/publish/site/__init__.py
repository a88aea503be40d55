"""The transcript site: `render_site` takes the published episodes, their transcripts and tags
and writes a page per episode, case and lesson, the overviews and the search index into site/.

views (what the templates show), moments (passages kept for topic pages), writer (pages
written only when changed), pages (episode pages kept or rendered, in parallel), render (the
whole site, in order).
"""

from pipeline.publish.site.render import render_site
from pipeline.publish.site.views import relative_url, segment_anchors

__all__ = ["relative_url", "render_site", "segment_anchors"]
