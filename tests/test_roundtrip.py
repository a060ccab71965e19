"""parse(serialize(parse(text))) == parse(text), for generated digests and any text."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from composer.pipeline.parse import serialize_issue

WORD = st.text(
    alphabet=st.sampled_from(
        list("abcXYZ研究模型数据训练论文问题 0123456789-_*`$~<>&，。：:？?、")
    ),
    min_size=1,
    max_size=14,
).filter(lambda s: s.strip())
URL = st.builds(
    lambda host, path: f"https://{host}.example/{path}",
    st.sampled_from(["a", "arxiv", "mp.weixin.qq"]),
    st.text(alphabet="abc123_/?=", max_size=10),
)
SENTENCE = st.lists(st.one_of(WORD, URL), min_size=1, max_size=6).map(" ".join)


@st.composite
def qa_block(draw):
    turns = []
    for _ in range(draw(st.integers(1, 3))):
        turns.append(f"Q: {draw(SENTENCE)}")
        turns += [
            f"{lab}: {draw(SENTENCE)}"
            for lab in draw(
                st.lists(st.sampled_from(["A", "A1", "A2", "F", "Q1-continue"]), max_size=3)
            )
        ]
    return "## 简短问答\n\n" + "\n\n".join(turns)


@st.composite
def discussion_block(draw):
    parts = [draw(WORD)]
    if draw(st.booleans()):
        parts.append(f"Q：{draw(SENTENCE)}")
    parts += [f"研究员{n}：{draw(SENTENCE)}" for n in range(1, draw(st.integers(1, 4)) + 1)]
    return "\n\n".join(parts)


@st.composite
def papers_block(draw):
    papers = []
    for n in range(1, draw(st.integers(1, 4)) + 1):
        title = draw(st.one_of(WORD.map(lambda w: f"《{w}》"), WORD))
        url = draw(st.one_of(URL, st.just("")))
        summary = draw(st.one_of(SENTENCE, st.just("")))
        papers.append(f"{n}. {title} {url}".rstrip() + (f"\n\n{summary}" if summary else ""))
    return "## 论文分享\n\n" + "\n\n".join(papers)


@st.composite
def chat_block(draw):
    turns = [f"D(Discussion): {draw(SENTENCE)}"]
    turns += [f"F{n or ''}: {draw(SENTENCE)}" for n in range(draw(st.integers(0, 3)))]
    return "## 讨论&杂谈\n\n" + "\n\n".join(turns)


@st.composite
def links_block(draw):
    rows = [f"- {draw(WORD)}: {draw(URL)}" for _ in range(draw(st.integers(1, 4)))]
    return "## 延伸阅读\n\n" + "\n".join(rows)


FREE = st.lists(SENTENCE, min_size=1, max_size=3).map(lambda ps: "## 随笔\n\n" + "\n\n".join(ps))
BLOCK = st.one_of(qa_block(), discussion_block(), papers_block(), chat_block(), links_block(), FREE)
DIGEST = st.lists(BLOCK, min_size=1, max_size=5).map("\n\n".join)


def assert_round_trip(text, parse, app):
    issue, _ = parse(text)
    again, _ = parse(serialize_issue(issue, app.sections))
    assert again == issue


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=DIGEST)
def test_generated_digests_round_trip(text, parse, app):
    assert_round_trip(text, parse, app)


PIECE = st.one_of(
    st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=12),
    st.sampled_from(
        [
            "\n",
            "\n\n",
            "## ",
            "Q: ",
            "A1：",
            "研究员2:",
            "D: ",
            "- ",
            "1. ",
            "《",
            "》",
            "```",
            "https://x.example/a",
            "论文分享\n",
            "---\n",
            "\t",
            "  ",
        ]
    ),
)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=st.lists(PIECE, max_size=40).map("".join))
def test_any_text_round_trips(text, parse, app):
    assert_round_trip(text, parse, app)
