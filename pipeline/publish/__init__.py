"""Stage 4, publish: takes the episodes, their transcripts and tags; gives site/: the media and
transcript files, the transcript website and the podcast feed.

assets (media, art and transcript files), site/ (the website), search (Pagefind, in shards),
feed (+ podcast_ext: the RSS feed with the Podcasting 2.0 namespace), chapters, layout (every
path and URL under site/).
"""
