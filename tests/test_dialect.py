"""The digest dialect: every construct of the samples and of DESIGN.md §4."""

from __future__ import annotations

import pytest
from conftest import SAMPLES

from composer.contract.protocols import Report
from composer.errors import DialectError
from composer.pipeline.parse import decode, serialize_issue


def kinds(issue):
    return [(s.kind, [i.kind for i in s.items]) for s in issue.sections]


def labels(item):
    return [t.label for t in item.turns]


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.name)
def test_samples_parse_into_known_sections(sample, parse):
    issue, report = parse(sample.read_text(encoding="utf-8"), sample.name)
    typed = [s for s in issue.sections if s.kind != "note"]
    assert typed or sample.name.startswith("003")
    for section in typed:
        assert section.items, section.title
        assert all(i.kind != "note" for i in section.items), section.title
    # the only warning any sample earns is 003's duplicated front matter key
    assert [w.message for w in report.warnings if "front matter" not in w.message] == []


def test_sample_000_structure(parse):
    issue, _ = parse(SAMPLES[0].read_text(encoding="utf-8"))
    discussion, papers, qa = issue.sections
    assert discussion.title.startswith("对 AI Safety")
    assert papers.kind == "papers" and papers.items[0].url == "https://kexue.fm/archives/9859"
    assert papers.items[0].title == "《Transformer升级之路：15、Key归一化助力长度外推》"
    assert qa.kind == "qa" and len(qa.items) == 5
    assert labels(qa.items[3]) == ["Q", "A", "A1", "A2"]


def test_sample_001_bare_topics_and_bare_headings(parse):
    issue, _ = parse(SAMPLES[1].read_text(encoding="utf-8"))
    assert [s.kind for s in issue.sections] == ["discussions", "papers", "chat", "qa"]
    first, second = issue.sections[0].items
    assert first.title.startswith("对 AI Safety") and first.question.startswith("大家觉得")
    assert labels(first) == ["研究员1", "研究员2", "研究员3", "研究员4"]
    assert second.title.startswith("是否有一种轻量方法") and not second.question
    assert labels(second) == ["研究员1", "研究员2", "研究员3"]
    papers = issue.sections[1].items
    assert [p.title[:6] for p in papers] == ["《Trans", "Improv", "整理了关于s", "Detect"]
    assert papers[1].url == "" and "https://arxiv.org/pdf/2210.10325" in papers[1].summary
    assert papers[3].url == "https://swj0419.github.io/detect-pretrain.github.io/"
    chat = issue.sections[2].items
    assert labels(chat[0]) == ["D(Discussion)", "F(Follow)"]
    assert labels(chat[3]) == ["D", "F", "F1", "F2", "F3"]


def test_sample_003_front_matter_duplicates_last_wins(parse):
    issue, report = parse(SAMPLES[2].read_text(encoding="utf-8"), "003.txt")
    assert issue.meta["disableHLJS"] is False
    assert issue.title == "Week-AI-01：LLaMA"
    assert "weight" not in issue.meta  # comments are not keys
    assert any("003.txt:15" in str(w) and "disableHLJS" in str(w) for w in report.warnings)
    assert [s.title for s in issue.sections][:2] == ["0. TakeAway", "1. 前沿技术追踪"]


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.name)
def test_round_trip_of_samples(sample, parse, app):
    issue, _ = parse(sample.read_text(encoding="utf-8"))
    again, _ = parse(serialize_issue(issue, app.sections))
    assert again == issue


def test_full_width_and_ascii_colons_and_continue_labels(parse):
    text = (
        "## 简短问答\n\nQ：第一个问题？\n\nA：回答\n\nQ1-continue: 追问\n\nA1：再答\n\n"
        "F: 谢谢\n\nQ2: 第二个问题\n\nA: 答"
    )
    issue, report = parse(text)
    items = issue.sections[0].items
    assert [labels(i) for i in items] == [["Q", "A", "Q1-continue", "A1", "F"], ["Q2", "A"]]
    assert items[0].turns[0].text == "第一个问题？"
    assert report.warnings == []


def test_bold_around_a_label_is_markup_but_the_editors_bold_after_it_is_text(parse):
    text = "## 简短问答\n\n**Q：**问题一\n\n**A**：回答一\n\nQ：**粗体** 和其他\n\nA：**也是粗体**"
    issue, report = parse(text)
    turns = [t.text for i in issue.sections[0].items for t in i.turns]
    assert turns == ["问题一", "回答一", "**粗体** 和其他", "**也是粗体**"]


def test_a_discussion_in_a_combined_qa_section_is_its_own_thread(parse):
    issue, _ = parse(
        "简短问答&讨论&杂谈\n\nQ: 问题\nA: 回答\nD(Discussion): 话题\nF(Follow): 跟进\n"
    )
    items = issue.sections[0].items
    assert [labels(i) for i in items] == [["Q", "A"], ["D(Discussion)", "F(Follow)"]]


def test_multi_line_turns_keep_lists_code_images_and_shell(parse):
    text = (
        "## 简短问答\n\nQ: 怎么跑？\n\nA: 这样：\n1. 安装 `pip`\n2. 运行\n\n"
        "```python\nprint('hi')\n\nQ: not a label inside code\n```\n\n"
        "python train.py \\\n  --lr 1e-4\n\n![图](https://x.y/a.png)\n\n**小结** 完成\n\nQ: 下一个"
    )
    issue, _ = parse(text)
    first, second = issue.sections[0].items
    answer = first.turns[1].text
    for piece in ("1. 安装 `pip`", "Q: not a label inside code", "--lr 1e-4", "![图]", "**小结**"):
        assert piece in answer
    assert labels(second) == ["Q"]


def test_chat_threads_with_full_width_parentheses(parse):
    issue, _ = parse(
        "## 讨论&杂谈\n\nD（Discussion）：观点\n\nF（Follow）：跟进\n\nF1: 再跟\n\nD: 新"
    )
    assert [labels(i) for i in issue.sections[0].items] == [
        ["D（Discussion）", "F（Follow）", "F1"],
        ["D"],
    ]


def test_unknown_label_becomes_note_with_place(parse):
    issue, report = parse("## 简短问答\n\nQ: 问\n\nA: 答\n\nX1: 奇怪的标签\n\nA1: 又一个", "n.md")
    items = issue.sections[0].items
    assert [i.kind for i in items] == ["qa", "note", "qa"]
    assert items[1].text == "X1: 奇怪的标签"
    assert any(str(w).startswith("n.md:7") for w in report.warnings)


def test_unrecognised_headless_text_is_a_note_with_warning(parse):
    issue, report = parse("随便写的一段话，没有任何结构。\n\n第二段。", "free.txt")
    assert kinds(issue) == [("note", ["note"])]
    assert "第二段" in issue.sections[0].items[0].text
    assert [str(w).split(":")[0:2] for w in report.warnings] == [["free.txt", "1"]]


def test_paper_variants(parse):
    text = (
        "论文分享\n\n### 1.《甲》https://a.example/1\n\n摘要甲\n\n2. Plain Title\n\n"
        "https://arxiv.org/abs/2401.00002v2\n\n3. https://github.com/x/y 一个仓库\n\n"
        "《乙》 https://arxiv.org/pdf/2401.00003.pdf\n"
    )
    issue, _ = parse(text)
    papers = issue.sections[0].items
    assert [(p.title, p.url) for p in papers] == [
        ("《甲》", "https://a.example/1"),
        ("Plain Title", "https://arxiv.org/abs/2401.00002v2"),
        ("一个仓库", "https://github.com/x/y"),
        ("《乙》", "https://arxiv.org/pdf/2401.00003.pdf"),
    ]
    assert papers[1].meta["ids"] == ["2401.00002"]
    assert papers[0].summary == "摘要甲"


@pytest.mark.parametrize(
    "heading", ["## 📚 本周论文分享：", "### 【论文分享】", "## 二、论文分享", "本期论文分享"]
)
def test_decorated_headings_find_their_section(parse, heading):
    issue, _ = parse(f"{heading}\n\n1.《甲》https://a.example/1\n\n摘要\n")
    assert [s.kind for s in issue.sections] == ["papers"]


def test_pasted_markdown_links_and_parenthesised_urls(parse):
    text = (
        "## 论文分享\n\n1. [Attention Is All You Need](https://arxiv.org/abs/1706.03762)\n"
        "经典论文。\n\n2.《Scaling Laws》(https://arxiv.org/abs/2001.08361)\n\n"
        "## 链接\n\n- [OpenAI 博客](https://openai.com/blog/) 介绍\n"
        "- [Wiki](https://en.wikipedia.org/wiki/A_(b))：维基\n"
    )
    issue, report = parse(text)
    papers, links = (s.items for s in issue.sections)
    assert [(p.title, p.url) for p in papers] == [
        ("Attention Is All You Need", "https://arxiv.org/abs/1706.03762"),
        ("《Scaling Laws》", "https://arxiv.org/abs/2001.08361"),
    ]
    assert [(i.title, i.url, i.note) for i in links] == [
        ("OpenAI 博客", "https://openai.com/blog/", "介绍"),
        ("Wiki", "https://en.wikipedia.org/wiki/A_(b)", "维基"),
    ]
    assert report.warnings == []


def test_numbered_list_inside_a_summary_stays_in_it(parse):
    issue, _ = parse("## 论文分享\n\n1.《甲》https://a.example\n\n要点：\n1. 一\n2. 二\n3. 三\n")
    (paper,) = issue.sections[0].items
    assert "3. 三" in paper.summary


def test_link_lists(parse):
    issue, _ = parse(
        "## 延伸阅读\n\n- 标题: https://a.example/x\n  一句说明\n- 只有标题\n- https://b.example"
    )
    links = issue.sections[0].items
    assert [(i.title, i.url, i.note) for i in links] == [
        ("标题", "https://a.example/x", "一句说明"),
        ("只有标题", "", ""),
        ("", "https://b.example", ""),
    ]


def test_crlf_bom_and_tabs():
    report = Report()
    text = decode("\ufeff## 论文分享\r\n\r\n1.《甲》\thttps://a.example\r\n".encode(), "x", report)
    assert text == "## 论文分享\n\n1.《甲》\thttps://a.example\n"


def test_gb18030_is_decoded_with_a_warning():
    report = Report()
    text = decode("## 简短问答\n\nQ: 问题\n".encode("gb18030"), "gbk.txt", report)
    assert "问题" in text
    assert "GB18030" in str(report.warnings[0]) and "gbk.txt" in str(report.warnings[0])


@pytest.mark.parametrize("data", [b"", b"  \n\n", b"\x00\x01\x02binary\x00" * 20])
def test_empty_and_binary_input_is_refused_clearly(data):
    with pytest.raises(DialectError) as err:
        decode(data, "bad.txt", Report())
    assert str(err.value).startswith("bad.txt: ")


def test_invalid_front_matter_is_kept_as_text(parse):
    issue, report = parse("---\ntitle: [unclosed\n---\n\n## 简短问答\n\nQ: x\n", "fm.md")
    assert "fm.md" in str(report.warnings[0])
    assert "title: [unclosed" in serialize_text(issue)


def serialize_text(issue) -> str:
    return "\n".join(i.text for i in issue.items()) + "\n".join(s.title for s in issue.sections)
