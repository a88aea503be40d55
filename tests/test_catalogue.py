"""The catalogue: episodes on disk, read back in each stage's order (pipeline.cache.catalogue)."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

from pipeline.cache.catalogue import Catalogue, feed_date
from pipeline.cache.listings import Listings
from pipeline.model import Episode, MediaInfo
from pipeline.publish.site import pages, views

UTC = dt.UTC
CET = dt.timezone(dt.timedelta(hours=1))
MEDIA = MediaInfo(duration=60.0, size=1000, mime_type="audio/mpeg", container="mp3",
                  audio_hash="0" * 64)


def episode(slug: str, date: dt.datetime | None, title: str = "", local: bool = True) -> Episode:
    return Episode(slug=slug, guid=f"guid-{slug}", kind="audio", title=title or slug.title(),
                   source=Path(f"/archive/episodes/{slug}.mp3") if local else None,
                   media=MEDIA if local else None, date=date)


def tricky() -> list[Episode]:
    """Ties at the same instant in two time zones, microseconds, undated episodes with titles
    out of slug order and in capitals, episodes before 1970, a video that lives elsewhere."""
    noon = dt.datetime(2021, 9, 16, 12, tzinfo=UTC)
    return [
        episode("b-same", noon),
        episode("a-same", noon.astimezone(CET)),
        episode("c-later", noon + dt.timedelta(microseconds=500)),
        episode("d-undated", None, title="zebra"),
        episode("e-undated", None, title="Aap"),
        episode("f-old", dt.datetime(1965, 1, 1, tzinfo=UTC)),
        episode("g-remote", noon + dt.timedelta(days=1), local=False),
        episode("h-ünïcode", dt.datetime(2022, 1, 1, tzinfo=UTC), title="Één"),
    ]


def test_each_order_is_the_order_the_stages_sorted_in():
    episodes = tricky()
    for seed in range(5):  # whatever order ingest found them in
        shuffled = episodes[:]
        random.Random(seed).shuffle(shuffled)
        catalogue = Catalogue(shuffled)
        oldest = sorted(episodes, key=lambda e: (e.date or dt.datetime.min.replace(tzinfo=UTC),
                                                 e.slug))
        assert [e.slug for e in catalogue] == [e.slug for e in oldest]
        dated = sorted((e for e in oldest if e.date), key=lambda e: e.date, reverse=True)
        undated = sorted((e for e in oldest if not e.date), key=lambda e: e.title.lower())
        assert [e.slug for e in catalogue.newest_first()] == [e.slug for e in dated + undated]
        epoch = dt.datetime(1970, 1, 1, tzinfo=UTC)
        in_feed = sorted((e for e in oldest if e.is_local),
                         key=lambda e: (feed_date(e.date) if e.date else epoch, e.slug),
                         reverse=True)
        assert [e.slug for e in catalogue.in_feed()] == [e.slug for e in in_feed]


def test_episodes_come_back_whole_and_by_slug():
    episodes = tricky()
    catalogue = Catalogue(episodes)
    assert len(catalogue) == len(episodes)
    for original in episodes:
        assert catalogue.get(original.slug) == original
        assert original.slug in catalogue
    assert catalogue.get("nope") is None and "nope" not in catalogue
    assert catalogue[0].slug == "d-undated" and catalogue[-1].slug == "h-ünïcode"
    assert [e.slug for e in catalogue[1:3]] == ["e-undated", "f-old"]
    replaced = episode("b-same", None, title="Anders")
    catalogue.add(replaced)  # the same slug: replaced, not added
    assert len(catalogue) == len(episodes) and catalogue.get("b-same") == replaced


def test_without_leaves_out_episodes_and_keeps_the_rest():
    catalogue = Catalogue(tricky())
    fewer = catalogue.without(["c-later", "not-there"])
    assert len(fewer) == len(catalogue) - 1
    assert "c-later" not in fewer and fewer.get("c-later") is None
    assert "c-later" not in [e.slug for e in fewer] + [e.slug for e in fewer.newest_first()]
    assert "c-later" in catalogue  # the catalogue itself is unchanged
    assert Catalogue.of(fewer) is fewer and catalogue.without([]) is catalogue


class Renderer:
    """Stands in for pages.PageRenderer (picklable, for the worker processes): what's tested
    here is render_pages' order and window, not the page."""

    def __call__(self, plan: pages.PagePlan) -> str:
        return f"rendered {plan.view}"


def test_pages_come_back_in_order_however_they_are_rendered():
    """Kept and rendered pages interleaved, more plans than render_pages reads ahead: each
    plan comes back once, in order, with its rendering (None when kept), here and by workers."""
    count = pages.LOOKAHEAD * 2 + 7
    plans = [pages.PagePlan(f"page-{n}", None, "kept" if n % 3 else None) for n in range(count)]
    for workers in (1, 2):
        came_back = list(pages.render_pages(Renderer(), iter(plans), workers))
        assert [plan for plan, _done in came_back] == plans
        assert [done for _plan, done in came_back] == \
            [None if plan.kept else f"rendered {plan.view}" for plan in plans]


def test_a_column_keeps_a_value_per_slug_beside_the_catalogue():
    catalogue = Catalogue(tricky())
    masters, tags = catalogue.column("masters"), catalogue.column("tags")
    masters["b-same"], masters["a-same"], tags["a-same"] = "m-b", None, "t-a"
    assert masters["b-same"] == "m-b" and masters.get("a-same") is None and "a-same" in masters
    assert "b-same" not in tags and tags.get("b-same") is None and len(masters) == 2
    assert list(masters) == ["a-same", "b-same"] and dict(tags) == {"a-same": "t-a"}
    masters["b-same"] = "m-b2"
    del masters["a-same"]
    assert dict(masters) == {"b-same": "m-b2"}


def card(number: int) -> views.EpisodeCard:
    return views.EpisodeCard(f"ep-{number}", f"Aflevering {number}", f"key-{number}",
                            f"afleveringen/ep-{number}/index.html", number % 3 == 0, "Podcast",
                            "", "", None, [])


def test_listings_give_back_cards_in_order_and_each_topics_episodes_by_part():
    """Cards come back in the order they were listed (newest first); a topic's episodes, by
    their positions among its own; the keys digested in order."""
    listings = Listings()
    for number in range(120):
        lesson = [("lesson/b", 1, 0, "[]")] if number % 5 == 0 else []
        listings.add(card(number), [("case/a", number % 2, number, None), *lesson])
    assert len(listings) == 120 and [c.slug for c in listings] == [f"ep-{n}" for n in range(120)]
    assert [c.slug for c in listings.latest(video=True, count=3)] == ["ep-0", "ep-3", "ep-6"]
    assert [c.slug for c in listings.latest(video=False, count=2)] == ["ep-1", "ep-2"]
    assert "ep-7" in listings and "ep-700" not in listings and listings.keyed()
    assert listings.topic_counts() == {"case/a": (120, sum(range(120))), "lesson/b": (24, 0)}
    part = list(listings.mentioned("lesson/b", range(2, 5)))
    assert [(c.slug, editor, moments, shown) for c, editor, moments, shown in part] == \
        [("ep-10", 1, 0, "[]"), ("ep-15", 1, 0, "[]"), ("ep-20", 1, 0, "[]")]
    shown = listings.listed_digest("case/a", range(3, 5), "site", 0)
    assert shown == listings.listed_digest("case/a", range(3, 5), "site", 0)
    assert shown != listings.listed_digest("case/a", range(3, 6), "site", 0)  # one more
    assert shown != listings.listed_digest("case/a", range(3, 5), "site", 1)  # another part
    assert shown != listings.listed_digest("case/a", range(2, 4), "site", 0)  # others
    same, edited = Listings(), Listings()
    for number in range(6):  # the same cards; in `edited` episode 4's link is the editor's
        same.add(card(number), [("case/a", number % 2, number, None)])
        edited.add(card(number), [("case/a", number % 2 or number == 4, number, None)])
    assert same.listed_digest("case/a", range(3, 5), "site", 0) == shown
    assert edited.listed_digest("case/a", range(3, 5), "site", 0) != shown
    before = listings.digest("site")
    other = Listings()
    for number in [1, 0, *range(2, 120)]:  # two swapped: another order, another digest
        other.add(card(number))
    assert other.digest("site") != before and listings.digest("site") == before
    listings.files.update(["a/index.html", "b.css"])
    listings.files.add("a/index.html")
    assert "b.css" in listings.files and "c" not in listings.files and len(listings.files) == 2
