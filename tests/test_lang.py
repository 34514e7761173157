"""Tests for pasta_core.lang against docs/PASTA_LANG.md §1–3 (tags, canonical form, bad input)."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pasta_core.lang import (
    DEFAULT_TOKENS,
    MAX_TOKENS,
    PARTIAL,
    Tag,
    TagStream,
    canonical,
    chunk_thread_text,
    parse,
    parse_document,
    scan_tag,
    splice,
)

SETTINGS = settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

CANON = (
    'Intro<promise topic="a" tokens="20"/><async topic="a">BODY A</async>'
    'mid<promise topic="b" tokens="10"/><async topic="b">BODY B</async><sync/>End'
)


def chunks_of(d: dict) -> list[tuple]:
    return [(c["topic"], c["tokens"], c["body"]) for c in d["chunks"]]


def codes(d: dict) -> list[tuple[str, int]]:
    return [(e["code"], e["offset"]) for e in d["errors"]]


# ---------------------------------------------------------------------------------------------
# §2 canonical form


def test_canonical_example_spliced_text():
    d = parse(CANON)
    assert d["text"] == "IntroBODY AmidBODY BEnd"
    assert splice(CANON) == "IntroBODY AmidBODY BEnd"
    assert d["errors"] == []


def test_canonical_example_main_thread_text():
    d = parse(CANON)
    assert d["main"] == (
        'Intro<promise topic="a" tokens="20"/>mid<promise topic="b" tokens="10"/><sync/>End'
    )


def test_canonical_example_chunks_and_threads():
    d = parse(CANON)
    assert chunks_of(d) == [("a", 20, "BODY A"), ("b", 10, "BODY B")]
    doc = parse_document(CANON)
    threads = [chunk_thread_text(c.topic, c.body) for c in doc.chunks]
    assert threads == [
        '<async topic="a">BODY A</async>',
        '<async topic="b">BODY B</async>',
    ]
    # each thread text stands verbatim in the canonical string
    for t in threads:
        assert t in CANON


def test_canonical_example_is_canonical():
    assert canonical(CANON) == CANON


def test_whitespace_is_kept_exactly():
    x = ' A \n<promise topic="a"/><async topic="a">  b \n</async>\t<sync/>  C '
    assert parse(x)["text"] == " A \n  b \n\t  C "


def test_blocks_at_end_bind_by_topic():
    x = (
        'Intro<promise topic="a" tokens="20"/>mid<promise topic="b" tokens="10"/><sync/>End'
        '<async topic="b">BODY B</async><async topic="a">BODY A</async>'
    )
    d = parse(x)
    assert d["errors"] == []
    assert d["text"] == "IntroBODY AmidBODY BEnd"
    assert chunks_of(d) == [("a", 20, "BODY A"), ("b", 10, "BODY B")]
    assert d["main"] == parse(CANON)["main"]
    assert canonical(x) == CANON


def test_block_without_matching_topic_binds_to_first_unbound():
    x = '<promise topic="a"/>|<promise topic="b"/>|<async topic="z">Z</async>'
    d = parse(x)
    assert d["errors"] == [
        {
            "code": "unfulfilled_promise",
            "offset": 21,
            "message": d["errors"][0]["message"],
        }
    ]
    assert chunks_of(d) == [("a", None, "Z"), ("b", None, "")]
    assert d["text"] == "Z||"


def test_topic_match_wins_over_first_unbound():
    x = '<promise topic="a"/><promise topic="b"/><async topic="b">B</async><async>A</async>'
    d = parse(x)
    assert d["errors"] == []
    assert chunks_of(d) == [("a", None, "A"), ("b", None, "B")]
    assert d["text"] == "AB"


def test_same_topic_binds_in_order():
    x = '<promise topic="t"/>1<promise topic="t"/>2<async topic="t">X</async>' \
        '<async topic="t">Y</async>'
    d = parse(x)
    assert chunks_of(d) == [("t", None, "X"), ("t", None, "Y")]
    assert d["text"] == "X1Y2"


def test_block_in_middle_after_its_promise():
    x = 'A<promise topic="a"/>B<async topic="a">x</async>C'
    d = parse(x)
    assert d["errors"] == []
    assert d["text"] == "AxBC"
    assert d["main"] == 'A<promise topic="a"/>BC'
    assert canonical(x) == 'A<promise topic="a"/><async topic="a">x</async>BC'


# ---------------------------------------------------------------------------------------------
# §3 bad input


def test_unfulfilled_promise():
    x = 'ab<promise topic="a" tokens="5"/>cd'
    d = parse(x)
    assert codes(d) == [("unfulfilled_promise", 2)]
    assert chunks_of(d) == [("a", 5, "")]
    assert d["text"] == "abcd"


def test_orphan_async_body_inline_at_its_place():
    x = 'ab<async topic="q">XY</async>cd'
    d = parse(x)
    assert codes(d) == [("orphan_async", 2)]
    assert d["chunks"] == []
    assert d["text"] == "abXYcd"
    assert d["main"] == "abXYcd"


def test_orphan_async_before_its_promise():
    x = '<async topic="a">X</async>m<promise topic="a"/>'
    d = parse(x)
    assert codes(d) == [("orphan_async", 0), ("unfulfilled_promise", 27)]
    assert d["text"] == "Xm"
    assert chunks_of(d) == [("a", None, "")]


def test_unclosed_async_body_runs_to_end():
    x = 'A<promise topic="a"/>B<async topic="a">body\nmore'
    d = parse(x)
    assert codes(d) == [("unclosed_async", 22)]
    assert chunks_of(d) == [("a", None, "body\nmore")]
    assert d["text"] == "Abody\nmoreB"


def test_unclosed_orphan_async():
    x = 'A<async topic="a">rest'
    d = parse(x)
    assert codes(d) == [("orphan_async", 1), ("unclosed_async", 1)]
    assert d["text"] == "Arest"


def test_stray_close_removed():
    x = "ab</async>cd"
    d = parse(x)
    assert codes(d) == [("stray_close", 2)]
    assert d["text"] == "abcd"
    assert d["main"] == "abcd"


def test_stray_close_after_closed_block():
    x = '<promise topic="a"/><async topic="a">X</async></async>'
    d = parse(x)
    assert codes(d) == [("stray_close", 46)]
    assert d["text"] == "X"


def test_nested_promise_in_body():
    x = '<promise topic="a"/><async topic="a">x<promise topic="b" tokens="3"/>y</async>z'
    d = parse(x)
    assert codes(d) == [("nested_tag", 38)]
    assert chunks_of(d) == [("a", None, "xy")]  # not executed: no chunk b
    assert d["text"] == "xyz"
    assert "<promise" not in d["main"].replace('<promise topic="a"/>', "")


def test_nested_sync_in_body():
    x = '<promise topic="a"/><async topic="a">x<sync/>y</async>z<sync/>'
    d = parse(x)
    assert codes(d) == [("nested_tag", 38)]
    assert chunks_of(d) == [("a", None, "xy")]
    assert d["text"] == "xyz"
    assert d["main"] == '<promise topic="a"/>z<sync/>'


def test_nested_tags_in_orphan_body():
    x = '<async>a<sync/>b<promise/>c</async>'
    d = parse(x)
    assert codes(d) == [("orphan_async", 0), ("nested_tag", 8), ("nested_tag", 16)]
    assert d["chunks"] == []
    assert d["text"] == "abc"


@pytest.mark.parametrize("value", ["abc", "-3", "1.5", "", "+4", "1e3", "0x10", "12abc"])
@pytest.mark.parametrize("quote", ['"', "'"])
def test_bad_tokens(value, quote):
    x = f"ab<promise topic={quote}t{quote} tokens={quote}{value}{quote}/>" \
        '<async topic="t">B</async>'
    d = parse(x)
    assert codes(d) == [("bad_tokens", 2)]
    assert chunks_of(d) == [("t", None, "B")]
    assert d["text"] == "abB"
    assert parse_document(x).chunks[0].length == DEFAULT_TOKENS


def test_missing_tokens_no_error():
    x = '<promise topic="t"/><async topic="t">B</async>'
    d = parse(x)
    assert d["errors"] == []
    assert chunks_of(d) == [("t", None, "B")]
    assert parse_document(x).chunks[0].length == DEFAULT_TOKENS == 50


@pytest.mark.parametrize(
    "value,expected", [("5000", 1000), ("1001", 1000), ("1000", 1000), ("0", 0), ("7", 7),
                       ("0040", 40), ("99999999999999999999", 1000)]
)
def test_tokens_clamped(value, expected):
    x = f'<promise topic="t" tokens="{value}"/><async topic="t">B</async>'
    d = parse(x)
    assert d["errors"] == []
    assert d["chunks"][0]["tokens"] == expected
    assert parse_document(x).chunks[0].length == expected
    assert MAX_TOKENS == 1000


def test_sync_with_nothing_pending():
    for x in ["a<sync/>b", "<sync/>", "a<sync/><sync/>b"]:
        d = parse(x)
        assert d["errors"] == []
        assert d["chunks"] == []
    assert parse("a<sync/>b")["text"] == "ab"
    assert parse("a<sync/>b")["main"] == "a<sync/>b"
    x = '<promise topic="a"/><async topic="a">A</async><sync/><sync/>e'
    d = parse(x)
    assert d["errors"] == [] and d["text"] == "Ae"


def test_errors_in_offset_order_with_exact_offsets():
    x = (
        '<promise topic="p" tokens="x"/>'  # 0: bad_tokens, unfulfilled (never bound)
        "</async>"  # 31: stray_close
        '<async topic="o">'  # 39
    )
    # the async block binds to the pending promise p; then it is unclosed
    d = parse(x)
    assert codes(d) == [("bad_tokens", 0), ("stray_close", 31), ("unclosed_async", 39)]

    y = (
        'a<promise topic="p"/>'  # 1: unfulfilled
        "b</async>"  # 22: stray close
        "<sync/>"
        '<promise topic="q" tokens="-1"/>'  # 37: bad tokens
        '<async topic="q">Q<sync/>'  # 69, nested at 87
        "</async>"
    )
    d = parse(y)
    assert codes(d) == [
        ("unfulfilled_promise", 1),
        ("stray_close", 22),
        ("bad_tokens", 37),
        ("nested_tag", 87),
    ]
    for e in d["errors"]:
        assert isinstance(e["message"], str) and e["message"]
    assert chunks_of(d) == [("p", None, ""), ("q", None, "Q")]
    assert d["text"] == "abQ"
    assert [e["offset"] for e in d["errors"]] == [
        y.index("<promise"), y.index("</async>"), y.index('<promise topic="q"'),
        y.index("<sync/>", y.index("Q")),
    ]


def test_json_keys_exact():
    x = 'a<promise topic="t" tokens="3"/><async topic="t">b</async></async>'
    d = parse(x)
    assert list(d) == ["text", "main", "chunks", "errors"]
    assert [list(c) for c in d["chunks"]] == [["topic", "tokens", "body"]]
    assert [list(e) for e in d["errors"]] == [["code", "offset", "message"]]
    assert json.loads(json.dumps(d)) == d
    assert list(parse("")) == ["text", "main", "chunks", "errors"]
    assert parse("") == {"text": "", "main": "", "chunks": [], "errors": []}


# ---------------------------------------------------------------------------------------------
# §1 tags and attribute syntax


@pytest.mark.parametrize(
    "tag,topic,tokens",
    [
        ('<promise topic="a" tokens="12"/>', "a", 12),
        ("<promise topic='a' tokens='12'/>", "a", 12),
        ("<promise topic='a' tokens=\"12\"/>", "a", 12),
        ('<promise topic="a" tokens="12" />', "a", 12),
        ('<promise   topic = "a"\n\ttokens=  "12"   />', "a", 12),
        ('<promise\ntopic="a"\ntokens="12"\n/>', "a", 12),
        ('<promise tokens="12" topic="a"/>', "a", 12),
        ("<promise topic=\"it's\"/>", "it's", None),
        ("<promise topic='say \"hi\"'/>", 'say "hi"', None),
        ('<promise topic="a > b < c"/>', "a > b < c", None),
        ('<promise topic="x/>y"/>', "x/>y", None),
        ('<promise topic="<sync/>"/>', "<sync/>", None),
        ('<promise topic="</async>"/>', "</async>", None),
        ('<promise topic=""/>', "", None),
        ("<promise/>", "", None),
        ("<promise />", "", None),
        ('<promise tokens="3"/>', "", 3),
        ('<promise foo="bar" topic="a" x-y=\'1\' data.z="<" tokens="4"/>', "a", 4),
        ('<promise topic="a" topic="b"/>', "a", None),
    ],
)
def test_promise_attribute_syntax(tag, topic, tokens):
    x = "L" + tag + "R"
    d = parse(x)
    assert d["errors"] == [
        {"code": "unfulfilled_promise", "offset": 1, "message": d["errors"][0]["message"]}
    ]
    assert chunks_of(d) == [(topic, tokens, "")]
    assert d["text"] == "LR"


@pytest.mark.parametrize(
    "opening,topic",
    [
        ('<async topic="a">', "a"),
        ("<async topic='a'>", "a"),
        ('<async  topic = "a"  >', "a"),
        ("<async\ntopic='a'\n>", "a"),
        ("<async>", ""),
        ("<async >", ""),
        ('<async other="1" topic="a">', "a"),
        ("<async topic=\"it's > <\">", "it's > <"),
    ],
)
def test_async_opening_syntax(opening, topic):
    x = f'<promise topic="{topic}" tokens="1"/>' + opening + "BODY</async>!"
    d = parse(x)
    assert d["errors"] == []
    assert [c["body"] for c in d["chunks"]] == ["BODY"]
    assert d["chunks"][0]["topic"] == topic
    assert d["text"] == "BODY!"


@pytest.mark.parametrize("closing", ["</async>", "</async >", "</async\n>"])
def test_close_syntax(closing):
    d = parse('<promise topic="a"/><async topic="a">B' + closing + "E")
    assert d["errors"] == []
    assert d["text"] == "BE"


@pytest.mark.parametrize("sync", ["<sync/>", "<sync />", "<sync  \n/>", '<sync foo="1"/>'])
def test_sync_syntax(sync):
    d = parse("a" + sync + "b")
    assert d == {"text": "ab", "main": "a<sync/>b", "chunks": [], "errors": []}


@pytest.mark.parametrize(
    "x",
    [
        "<b>",
        "a <b>bold</b> c",
        "<promise",
        '<promise topic="a"',
        '<promise topic="a">',
        "<promise>",
        "<promise/ >",
        "<promise topic=a/>",
        '<promise topic="a/>',
        "<promises/>",
        "<syncx/>",
        "<sync>",
        "<sync/ >",
        "<Sync/>",
        "<SYNC/>",
        "<async/>",
        "<async />",
        "<asyncx>",
        "</asyncx>",
        "</ async>",
        "< sync/>",
        "</sync>",
        "</promise>",
        "<>",
        "</>",
        "<",
        "a < b > c",
        "x<3",
        '<promise topic="a" tokens/>',
        "<promise 1a=\"x\"/>",
        "<!-- <promise -->",
    ],
)
def test_other_angle_text_is_plain(x):
    d = parse(x)
    assert d == {"text": x, "main": x, "chunks": [], "errors": []}
    assert canonical(x) == x


def test_plain_angle_text_around_real_tags():
    x = '<b><promise topic="a"/></b><async topic="a"><i>x</i></async><syncx/>'
    d = parse(x)
    assert d["errors"] == []
    assert d["text"] == "<b><i>x</i></b><syncx/>"
    assert chunks_of(d) == [("a", None, "<i>x</i>")]


def test_scan_tag_spans_and_attrs():
    t = scan_tag('xx<promise topic="a" tokens=\'3\' />yy', 2)
    assert isinstance(t, Tag)
    assert (t.kind, t.start, t.end, t.attrs) == ("promise", 2, 34, {"topic": "a", "tokens": "3"})
    assert t.topic == "a"
    t = scan_tag("</async>", 0)
    assert isinstance(t, Tag) and (t.kind, t.end) == ("close", 8)
    assert scan_tag("<sync", 0) is None
    assert scan_tag("<sync", 0, final=False) is PARTIAL
    assert scan_tag("<syncx", 0, final=False) is None
    assert scan_tag('<promise topic="a', 0, final=False) is PARTIAL
    assert scan_tag("<b", 0, final=False) is None


# ---------------------------------------------------------------------------------------------
# Round trips


CANONICAL_TEXTS = [
    "",
    "plain text only",
    CANON,
    '<promise topic="a"/><async topic="a"></async>',
    'x<promise topic="a" tokens="0"/><async topic="a">b</async><sync/>',
    "A<promise topic='say \"hi\"' tokens=\"7\"/><async topic='say \"hi\"'>z</async>",
    '<promise topic="it\'s"/><async topic="it\'s">q</async>tail',
    '<promise topic=""/><async topic="">e</async><sync/><sync/>',
    "a <b>bold</b> <syncx/> <promise",
    (
        'p<promise topic="1" tokens="10"/><async topic="1">one</async>'
        '<promise topic="2" tokens="20"/><async topic="2">two</async><sync/>\n'
        '<promise topic="3" tokens="30"/><async topic="3">three</async><sync/>end'
    ),
]


@pytest.mark.parametrize("x", CANONICAL_TEXTS)
def test_canonical_is_identity_on_canonical_texts(x):
    assert canonical(x) == x
    assert parse(x)["errors"] == []


NON_CANONICAL = [
    (
        (
            "I<promise topic='a' tokens='20' />m<promise  topic=\"b\"  tokens=\"10\"/><sync />E"
            "<async topic='b'>B</async><async topic = 'a' >A</async >"
        ),
        (
            'I<promise topic="a" tokens="20"/><async topic="a">A</async>'
            'm<promise topic="b" tokens="10"/><async topic="b">B</async><sync/>E'
        ),
    ),
    (
        "<promise topic='a' tokens='5000' foo='x'/><async topic=\"a\">b</async>",
        '<promise topic="a" tokens="1000"/><async topic="a">b</async>',
    ),
    (
        "<promise tokens='8'/>x<async>b</async>",
        '<promise topic="" tokens="8"/><async topic="">b</async>x',
    ),
]


@pytest.mark.parametrize("x,expected", NON_CANONICAL)
def test_canonical_of_non_canonical_clean_text(x, expected):
    d = parse(x)
    assert d["errors"] == []
    c = canonical(x)
    assert c == expected
    dc = parse(c)
    assert dc["text"] == d["text"]
    assert chunks_of(dc) == chunks_of(d)
    assert dc["errors"] == []
    assert canonical(c) == c


def test_canonical_drops_removed_tags_and_reports_nothing():
    x = 'a</async><promise topic="t"/>b<async topic="t">x<sync/>y</async>'
    c = canonical(x)
    assert c == 'a<promise topic="t"/><async topic="t">xy</async>b'
    assert parse(c)["errors"] == []
    assert parse(c)["text"] == parse(x)["text"] == "axyb"


def test_canonical_keeps_text_that_would_glue_into_a_tag():
    # moving the block would glue "<syn" + "c/>" into a sync tag: the block stays in place
    x = 'x<promise topic="a"/>y<syn<async topic="a">B</async>c/>'
    c = canonical(x)
    assert parse(c)["text"] == parse(x)["text"] == "xBy<sync/>"
    assert chunks_of(parse(c)) == [("a", None, "B")]
    assert canonical(c) == c


# ---------------------------------------------------------------------------------------------
# Property tests

FRAGMENTS = [
    "<promise",
    " topic=\"a\"",
    " topic='b'",
    " topic=\"\"",
    " tokens='12'",
    ' topic="',
    " topic='",
    ' tokens="x"',
    ' tokens="5000"',
    "/>",
    " />",
    '<async topic="a">',
    "<async topic='b'>",
    "<async>",
    "</async>",
    "<sync/>",
    "<sync",
    "<",
    ">",
    "/",
    '"',
    "'",
    "=",
    "a",
    "b",
    "xy",
    " ",
    "\n",
]

tag_soup = st.lists(st.sampled_from(FRAGMENTS), max_size=40).map("".join)
# soups around an opener that may never finish, so that complete tags stand inside a candidate
UNFINISHED = ["", '<promise topic="', "<promise topic='", "<async topic=\"", "<sync", "<", "</"]
open_soup = st.tuples(tag_soup, st.sampled_from(UNFINISHED), tag_soup).map("".join)
any_text = st.one_of(
    open_soup,
    tag_soup,
    st.text(max_size=80),
    st.text(alphabet="<>/\"'= asyncp", max_size=60),
)


def check_dict_shape(d: dict, x: str) -> None:
    assert list(d) == ["text", "main", "chunks", "errors"]
    assert isinstance(d["text"], str) and isinstance(d["main"], str)
    for c in d["chunks"]:
        assert list(c) == ["topic", "tokens", "body"]
        assert c["tokens"] is None or 0 <= c["tokens"] <= MAX_TOKENS
    offsets = [e["offset"] for e in d["errors"]]
    assert offsets == sorted(offsets)
    for e in d["errors"]:
        assert e["code"] in {
            "unfulfilled_promise", "orphan_async", "unclosed_async", "stray_close",
            "nested_tag", "bad_tokens",
        }
        assert 0 <= e["offset"] < len(x)
        assert x[e["offset"]] == "<"


@SETTINGS
@given(any_text)
def test_parse_never_raises(x):
    d = parse(x)
    check_dict_shape(d, x)
    assert splice(x) == d["text"]
    # the spliced text never holds more characters than the input
    assert len(d["text"]) <= len(x)
    if "<" not in x:
        assert d == {"text": x, "main": x, "chunks": [], "errors": []}


@SETTINGS
@given(any_text)
def test_splice_stability(x):
    d = parse(x)
    c = canonical(x)
    dc = parse(c)
    assert dc["text"] == d["text"]
    assert chunks_of(dc) == chunks_of(d)
    assert canonical(c) == c


# structurally generated documents ------------------------------------------------------------

plain = st.text(alphabet="abcXYZ 019.,;:!?()[]{}&\"'=/>\n\t", max_size=12) | st.just("a < b")
topics = st.text(alphabet="ab '\"<>/= ", max_size=6).filter(
    lambda t: not ('"' in t and "'" in t)
)
tokens_st = st.one_of(st.none(), st.integers(0, 3000))


def qattr(name: str, value: str, prefer: str = '"') -> str:
    q = prefer if prefer not in value else ("'" if prefer == '"' else '"')
    return f"{name}={q}{value}{q}"


@st.composite
def documents(draw):
    items = draw(
        st.lists(
            st.one_of(
                st.tuples(st.just("text"), plain),
                st.tuples(st.just("promise"), topics, tokens_st, plain),
                st.tuples(st.just("sync")),
            ),
            max_size=10,
        )
    )
    return items


def render_canonical(items) -> str:
    out = []
    for it in items:
        if it[0] == "text":
            out.append(it[1])
        elif it[0] == "sync":
            out.append("<sync/>")
        else:
            _, topic, tokens, body = it
            tag = "<promise " + qattr("topic", topic)
            if tokens is not None:
                tag += " " + qattr("tokens", str(tokens))
            out.append(tag + "/>")
            out.append("<async " + qattr("topic", topic) + ">" + body + "</async>")
    return "".join(out)


def render_blocks_at_end(items) -> str:
    main, blocks = [], []
    for it in items:
        if it[0] == "text":
            main.append(it[1])
        elif it[0] == "sync":
            main.append("<sync />")
        else:
            _, topic, tokens, body = it
            tag = "<promise  " + qattr("topic", topic, "'")
            if tokens is not None:
                tag += "\n" + qattr("tokens", str(tokens), "'")
            main.append(tag + " />")
            blocks.append("<async " + qattr("topic", topic, "'") + " >" + body + "</async >")
    return "".join(main) + "".join(blocks)


def expected_of(items):
    text, chunks = [], []
    for it in items:
        if it[0] == "text":
            text.append(it[1])
        elif it[0] == "promise":
            _, topic, tokens, body = it
            text.append(body)
            chunks.append((topic, None if tokens is None else min(tokens, 1000), body))
    return "".join(text), chunks


@SETTINGS
@given(documents())
def test_structured_documents(items):
    x = render_canonical(items)
    text, chunks = expected_of(items)
    d = parse(x)
    assert d["errors"] == []
    assert d["text"] == text
    assert chunks_of(d) == chunks
    # clamped tokens render differently; otherwise the rendering is already canonical
    if all(it[0] != "promise" or it[2] is None or it[2] <= 1000 for it in items):
        assert canonical(x) == x

    y = render_blocks_at_end(items)
    dy = parse(y)
    assert dy["errors"] == []
    assert dy["text"] == text
    assert chunks_of(dy) == chunks
    assert dy["main"] == d["main"]
    cy = canonical(y)
    assert parse(cy)["text"] == text
    assert chunks_of(parse(cy)) == chunks
    assert canonical(cy) == cy


# TagStream -----------------------------------------------------------------------------------


def reference_items(text: str) -> list:
    """Whole-text tokenisation with scan_tag(final=True), as parse_document scans."""
    out, pos, i = [], 0, 0
    while (j := text.find("<", i)) >= 0:
        tag = scan_tag(text, j, final=True)
        if isinstance(tag, Tag):
            if j > pos:
                out.append(text[pos:j])
            out.append(tag)
            pos = i = tag.end
        else:
            i = j + 1
    if pos < len(text):
        out.append(text[pos:])
    return out


def merged(items: list) -> list:
    out: list = []
    for it in items:
        if isinstance(it, str):
            assert it != ""
            if out and isinstance(out[-1], str):
                out[-1] += it
                continue
        else:
            it = (it.kind, it.start, it.end, dict(it.attrs))
        out.append(it)
    return out


def tag_starts(text: str) -> set[int]:
    return {t.start for t in reference_items(text) if isinstance(t, Tag)}


def stream(text: str, cuts: list[int]):
    """Feed text split at `cuts`; return (items before flush, items from flush)."""
    s = TagStream()
    fed, prev = [], 0
    for c in sorted(set(cuts)) + [len(text)]:
        fed.extend(s.feed(text[prev:c]))
        prev = c
    return fed, s.flush(), s


def check_stream(text: str, cuts: list[int]) -> None:
    fed, flushed, s = stream(text, cuts)
    items = fed + flushed
    # the same plain text and tags as the whole text
    assert merged(items) == merged(reference_items(text))
    assert s.held == ""
    # pieces and tag raw texts reproduce the input, in order
    out, pos = [], 0
    starts = tag_starts(text)
    for it in items:
        if isinstance(it, Tag):
            assert it.start == pos
            out.append(text[it.start : it.end])
            pos = it.end
        else:
            # a released string never holds the start of a complete tag
            assert not any(pos <= k < pos + len(it) for k in starts), (it, pos)
            out.append(it)
            pos += len(it)
    assert "".join(out) == text


@SETTINGS
@given(any_text, st.lists(st.integers(0, 200), max_size=12))
def test_tagstream_arbitrary_splits(text, cuts):
    check_stream(text, [c for c in cuts if c <= len(text)])


@SETTINGS
@given(open_soup)
def test_tagstream_char_by_char(text):
    check_stream(text, list(range(len(text))))


def test_tagstream_example():
    s = TagStream()
    out = []
    for ch in 'ab<promise topic="a" tokens="3"/>cd<sync/>e<b>':
        out.extend(s.feed(ch))
    out.extend(s.flush())
    m = merged(out)
    assert m == [
        "ab",
        ("promise", 2, 33, {"topic": "a", "tokens": "3"}),
        "cd",
        ("sync", 35, 42, {}),
        "e<b>",
    ]


def test_tagstream_holds_back_partial_tag():
    s = TagStream()
    assert s.feed("hello <pro") == ["hello "]
    assert s.held == "<pro"
    assert s.feed("mise/") == []
    items = s.feed("> x")
    assert [type(i) for i in items] == [Tag, str]
    assert items[0].kind == "promise" and (items[0].start, items[0].end) == (6, 16)
    assert items[1] == " x"
    assert s.flush() == []


def test_tagstream_releases_non_tag_at_once():
    s = TagStream()
    assert s.feed("a <b") == ["a <b"]
    assert s.feed("<syncx") == ["<syncx"]


def test_tagstream_flush_finds_tags_after_an_unfinished_one():
    # '<promise topic="' never closes, so at the end of the stream it is plain text, but the
    # '<sync/>' inside it is a complete tag in the whole text (parse_document treats it so)
    text = '<promise topic="<sync/>'
    assert codes(parse(text)) == [] and parse(text)["text"] == '<promise topic="'
    check_stream(text, [])
    check_stream(text, [5, 17])


def test_tagstream_long_candidate_is_plain_text():
    long_topic = "t" * 600
    text = f'<promise topic="{long_topic}"/>z'
    check_stream(text, [10, 300, 550])
    fed, _, _ = stream(text, [10, 300, 550])
    # a candidate tag longer than MAX_TAG_CHARS is plain text, released before the end
    assert fed and isinstance(fed[0], str)
