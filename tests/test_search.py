"""The sharded search index (pipeline/publish/search.py), with the real Pagefind."""

from __future__ import annotations

import json
from pathlib import Path, PurePosixPath

import pytest

from pipeline.publish import search
from pipeline.publish.layout import SiteLayout
from pipeline.publish.search import index_search, plan_shards, shard_count, shard_of

PAGE = """<!doctype html><html lang="nl"><head><meta charset="utf-8"><title>{title}</title></head>
<body><nav>menu</nav><article data-pagefind-body><h1>{title}</h1><p>{text}</p></article></body></html>
"""


def test_shards_grow_by_doubling_and_stay_about_shard_pages_large():
    assert shard_count(0) == shard_count(1) == shard_count(search.SHARD_PAGES) == 1
    assert shard_count(search.SHARD_PAGES + 1) == 2
    assert shard_count(1000) == 16  # about 63 pages each
    assert shard_count(10**6) == search.MAX_SHARDS


def test_a_slug_keeps_its_shard_while_the_count_is_the_same():
    slugs = [f"aflevering-{n:05d}" for n in range(1000)]
    plan = plan_shards({slug: PurePosixPath(f"afleveringen/{slug}/index.html") for slug in slugs})
    assert len(plan) == 16 and sum(len(pages) for pages in plan.values()) == 1000
    assert max(len(pages) for pages in plan.values()) < 2 * search.SHARD_PAGES
    assert all(shard_of(slug, 16) in plan and slug in plan[shard_of(slug, 16)] for slug in slugs)
    assert shard_of("a", 16) != shard_of("a", 32)[:2]  # the name says the count: no mix-ups


def make_site(root: Path, texts: dict[str, str]) -> tuple[SiteLayout, dict[str, PurePosixPath]]:
    layout = SiteLayout(root, "https://example.org/")
    pages = {}
    for slug, text in texts.items():
        page = PurePosixPath("afleveringen") / slug / "index.html"
        layout.path(page).parent.mkdir(parents=True, exist_ok=True)
        layout.path(page).write_text(PAGE.format(title=slug, text=text), encoding="utf-8")
        pages[slug] = page
    return layout, pages


def digest(path: Path) -> str | None:
    return path.read_bytes().hex() if path.is_file() else None  # content as its own digest


def shards_on_disk(layout: SiteLayout) -> dict[str, str]:
    path = layout.path(PurePosixPath("pagefind/shards.json"))
    if not path.exists():
        return {}
    manifest = json.loads(path.read_text())
    return {shard["name"]: shard["key"] for shard in manifest["shards"]}


def test_only_the_shard_of_a_changed_page_is_indexed_again(tmp_path, monkeypatch):
    monkeypatch.setattr(search, "SHARD_PAGES", 2)
    texts = {f"ep-{n}": f"buurtkamer gesprek nummer {n}" for n in range(8)}
    layout, pages = make_site(tmp_path, texts)

    planned = len(plan_shards(pages))  # four shards by hash; one may be empty
    assert planned >= 2
    first = index_search(layout, pages, digest, workers=2)
    assert (first.indexed, first.kept, first.problems) == (planned, 0, [])
    before = shards_on_disk(layout)
    assert len(before) == planned
    for name in before:  # a whole Pagefind bundle per shard, without the unused UI files
        assert (tmp_path / "site" / "pagefind" / name / "pagefind-entry.json").is_file()
        assert not (tmp_path / "site" / "pagefind" / name / "pagefind-ui.js").exists()

    again = index_search(layout, pages, digest)
    assert (again.indexed, again.kept) == (0, planned)

    layout.path(pages["ep-3"]).write_text(PAGE.format(title="ep-3", text="opbouwwerker"))
    changed = index_search(layout, pages, digest)
    assert (changed.indexed, changed.kept) == (1, planned - 1)
    after = shards_on_disk(layout)
    assert [name for name in after if after[name] != before[name]] == [shard_of("ep-3", 4)]


def test_a_new_shard_count_replaces_every_shard_and_the_old_unsharded_index(tmp_path, monkeypatch):
    monkeypatch.setattr(search, "SHARD_PAGES", 4)
    layout, pages = make_site(tmp_path, {f"ep-{n}": "wijkteam" for n in range(4)})
    old_index = tmp_path / "site" / "pagefind" / "pagefind.js"  # as builds before shards left it
    old_index.parent.mkdir(parents=True)
    old_index.write_text("// old")
    assert index_search(layout, pages, digest).indexed == 1
    assert not old_index.exists()
    assert list(shards_on_disk(layout)) == ["01-00"]

    layout, pages = make_site(tmp_path, {f"ep-{n}": "wijkteam" for n in range(6)})
    result = index_search(layout, pages, digest)
    assert result.indexed == len(shards_on_disk(layout)) == 2
    folders = sorted(p.name for p in (tmp_path / "site" / "pagefind").iterdir() if p.is_dir())
    assert folders == sorted(shards_on_disk(layout))


def test_a_failing_indexer_is_one_problem_line_and_is_tried_again(tmp_path, monkeypatch):
    layout, pages = make_site(tmp_path, {"ep-1": "wijkteam"})
    monkeypatch.setattr(search, "_pagefind", lambda: [str(tmp_path / "no-pagefind")])
    failed = index_search(layout, pages, digest)
    assert failed.indexed == 0 and len(failed.problems) == 1
    assert failed.problems[0].startswith("search index not built for shard 01-00:")
    assert shards_on_disk(layout) == {}  # nothing to search yet
    monkeypatch.undo()
    assert index_search(layout, pages, digest).indexed == 1  # not recorded as done before

    layout.path(pages["ep-1"]).write_text(PAGE.format(title="ep-1", text="buurtkamer"))
    monkeypatch.setattr(search, "_pagefind", lambda: [str(tmp_path / "no-pagefind")])
    assert len(index_search(layout, pages, digest).problems) == 1
    assert shards_on_disk(layout) == {"01-00": ""}  # the last index is still searched
    monkeypatch.undo()
    assert index_search(layout, pages, digest).indexed == 1


@pytest.mark.parametrize("pages", [1, 3])
def test_the_glob_matches_exactly_the_pages(pages):
    paths = [PurePosixPath(f"afleveringen/ep-{n}/index.html") for n in range(pages)]
    glob = search._glob(paths)
    assert glob == str(paths[0]) if pages == 1 else glob.startswith("{") and glob.count(",") == 2
