from hypothesis import given
from hypothesis import strategies as st

from django_push.links import format_link_header, parse_link_header, urls_for


def test_parses_several_headers_and_values():
    links = parse_link_header(
        [
            '<https://hub.example/>; rel="hub"',
            '<https://a.example/feed>; rel=self, <https://hub2.example/>; rel="hub"',
        ]
    )
    assert urls_for(links, "hub") == ["https://hub.example/", "https://hub2.example/"]
    assert urls_for(links, "self") == ["https://a.example/feed"]


def test_relations_are_case_insensitive_and_may_be_several():
    links = parse_link_header('<https://x.example/>; REL="Hub Self"')
    assert urls_for(links, "hub") == ["https://x.example/"]
    assert urls_for(links, "self") == ["https://x.example/"]


def test_commas_and_semicolons_inside_quotes_and_brackets_are_data():
    links = parse_link_header(
        '<https://x.example/a,b;c>; title="one, two; three"; rel="hub", '
        "<https://y.example/>; rel=self"
    )
    assert urls_for(links, "hub") == ["https://x.example/a,b;c"]
    assert links[0].params["title"] == "one, two; three"
    assert urls_for(links, "self") == ["https://y.example/"]


def test_relative_targets_resolve_against_base_url():
    links = parse_link_header("</feed.json>; rel=self", "https://site.example/blog/")
    assert urls_for(links, "self") == ["https://site.example/feed.json"]


def test_first_rel_parameter_wins():
    links = parse_link_header('<https://x.example/>; rel="hub"; rel="self"')
    assert links[0].rels == frozenset({"hub"})


def test_escaped_quotes_in_quoted_values():
    links = parse_link_header(r'<https://x.example/>; title="a \"b\""; rel=hub')
    assert links[0].params["title"] == 'a "b"'


def test_malformed_values_are_skipped():
    assert parse_link_header("garbage, <unterminated; rel=hub") == []
    assert parse_link_header(None) == []
    assert parse_link_header([]) == []


def test_duplicates_are_reported_once():
    links = parse_link_header('<https://h/>; rel=hub, <https://h/>; rel="hub"')
    assert urls_for(links, "hub") == ["https://h/"]


def test_format_round_trips_through_the_parser():
    value = format_link_header(["https://hub.example/", "https://hub2/"], "https://s/f")
    links = parse_link_header(value)
    assert urls_for(links, "self") == ["https://s/f"]
    assert urls_for(links, "hub") == ["https://hub.example/", "https://hub2/"]
    assert value.startswith("<https://s/f>")


def test_format_without_self():
    assert (
        urls_for(parse_link_header(format_link_header(["https://h/"], None)), "self")
        == []
    )


@given(st.text(max_size=200))
def test_parser_never_raises(value):
    parse_link_header(value, "https://base.example/")
