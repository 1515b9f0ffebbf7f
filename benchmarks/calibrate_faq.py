"""Calibrate ``faq_match.MATCH_THRESHOLD``: when does a question match a staff answer's wording?

Nine staff answers (two wordings each, as staff would write them) are added to a copy of the
shipped documents and indexed with the bundled model. Held out: three paraphrases per answer
(seed questions on the same topic where there are some, else written as citizens ask) must
match their own answer; every other seed and dialogue question (including close ones such as
区里有没有帮企业贷款的服务？ next to an answer on loan *interest rates*) must match none.
The threshold is the smallest value no negative reaches, plus a margin. Twelve questions one word away from an entry's
wording (小学怎么报名 next to 幼儿园怎么报名) are negatives too: the contrast rule (``question_reading.contrasts``)
must catch them. Usage:
``python benchmarks/calibrate_faq.py`` (about 30 s).
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kb_bot.answering import faq, faq_match  # noqa: E402
from kb_bot.engine import KnowledgeBase  # noqa: E402
from kb_bot.settings import Settings  # noqa: E402

#: (wordings staff write, held-out paraphrases, answer)
ENTRIES = [
    (["办护照去哪里？", "护照怎么申请？"], ["在上街区怎么办理护照？", "上街区哪里可以办护照？", "我想办个护照，要去哪个部门？"],
     "护照由公安机关出入境管理部门办理。"),
    (["孩子上幼儿园怎么报名？", "幼儿园入园报名时间"], ["上街区的幼儿园怎么报名？", "小孩明年上幼儿园，去哪报名？", "幼儿园什么时候开始招生？"],
     "幼儿园报名以区教育局每年发布的招生通知为准。"),
    (["怎么在网上预约挂号？", "医院挂号在哪里预约"], ["上街区的医院怎么在网上预约挂号？", "上街区医院怎么挂号？", "看病能不能手机上挂号？"],
     "可通过医院公众号预约挂号。"),
    (["失业金怎么领？", "失业保险金在哪里申领"], ["失业了去哪里领失业金？", "下岗了能领什么补助？", "失业保险怎么申请？"],
     "失业保险金可在人社部门申领。"),
    (["怎么办理营业执照？", "开公司去哪里办执照"], ["个体户营业执照在哪办？", "我想开个小店，执照怎么办？", "注册公司需要去哪里？"],
     "营业执照在区政务服务中心办理。"),
    (["开发区帮企业贷款的利率是多少？", "银企对接贷款利息多少"], ["企业贷款利息高不高？", "通过银企对接平台贷款，利率怎么算？", "融资贷款的利率是多少？"],
     "利率由合作银行按企业情况确定。"),
    (["下一次招聘会什么时候举办？", "招聘专项活动什么时候开"], ["最近有招聘会吗？", "开发区的招聘会啥时候办？", "下次招聘活动是哪天？"],
     "招聘会时间以区人社局通知为准。"),
    (["上街区教师招聘怎么报名？", "想当老师去哪报名"], ["上街区招老师在哪报名？", "我是师范毕业生，怎么应聘上街区的老师？", "教师公开招聘的报名条件是什么？"],
     "教师招聘报名以区教育局公告为准。"),
    (["区政府几点下班？", "区政府下班时间"], ["区政府下午几点关门？", "政府大楼几点下班", "去区政府办事，最晚几点到？"],
     "区政府工作日17时30分下班。"),
]

#: Questions one word away from an entry's wording that ask something else (QA, thirteenth session: 小学怎么报名 got
#: the kindergarten entry as 工作人员解答, 区政府几点上班 the closing time): none may match.
CONTRASTS = ["小学怎么报名？", "初中怎么报名？", "区政府几点上班？", "身份证去哪里办？", "怎么在网上预约疫苗？",
             "养老金怎么领？", "怎么办理健康证？", "下一次运动会什么时候举办？", "上街区医生招聘怎么报名？",
             "想当医生去哪报名", "幼儿园学费多少钱？", "护照丢了怎么办？"]


def negatives() -> list[str]:
    held_out = {q for _, paraphrases, _ in ENTRIES for q in paraphrases}
    questions = []
    for line in (ROOT / "tests/data/seed_questions.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            questions.append(json.loads(line)["question"])
    for line in (ROOT / "tests/data/dialogues.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            questions.extend(turn["q"] for turn in json.loads(line)["turns"])
    return [q for q in dict.fromkeys(questions + CONTRASTS) if q not in held_out]


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        documents = Path(folder) / "documents"
        shutil.copytree(ROOT / "documents", documents, ignore=shutil.ignore_patterns("faq"))
        paths = [faq.save_entry(documents, wordings, answer).path for wordings, _, answer in ENTRIES]
        kb = KnowledgeBase(Settings(documents=documents, index=Path(folder) / "index"))
        kb.build(full=True)
        positives = [(q, paths[i]) for i, (_, paraphrases, _) in enumerate(ENTRIES) for q in paraphrases]
        pos_scores = faq_match.scores(kb, [q for q, _ in positives])
        neg_questions = negatives()
        neg_scores = faq_match.scores(kb, neg_questions)
        synonyms = kb.synonyms()
        # the rule beside the cosines: one word away from a wording and asking of something else (faq.contrasts)
        pos_apart = [faq_match.contrasts(q, entry.questions, synonyms)
                     for (q, _), (_, _, entry) in zip(positives, pos_scores)]
        neg_apart = [faq_match.contrasts(q, entry.questions, synonyms)
                     for q, (_, _, entry) in zip(neg_questions, neg_scores)]
    right = [(score, ahead, entry.path == path, q) for (q, path), (score, ahead, entry) in zip(positives, pos_scores)]
    print(f"{len(positives)} held-out paraphrases, {len(neg_questions)} other seed and dialogue questions")
    print(f"now: cosine >= {faq_match.MATCH_THRESHOLD}, margin over the best article passage >= {faq_match.MATCH_MARGIN}")
    for cosine in (0.88, 0.90, 0.92):
        for lead in (0.0, 0.05, 0.065, 0.075, 0.085, 0.1):
            matched = sum(1 for s, a, ok, _ in right if ok and s >= cosine and a >= lead)
            wrong = sum(1 for s, a, ok, _ in right if not ok and s >= cosine and a >= lead)
            false = [q for q, (s, a, _) in zip(neg_questions, neg_scores) if s >= cosine and a >= lead]
            print(f"  cosine {cosine:.2f} margin {lead:.3f}: paraphrases matched {matched}/{len(right)}, "
                  f"to the wrong entry {wrong}, other questions matched {len(false)}/{len(neg_scores)}"
                  + (f" e.g. {false[0]}" if false else ""))
    print("with faq.contrasts too (a question one word away from a wording, asking of something else, never matches):")
    for cosine in (0.90, 0.92):
        for lead in (0.0, 0.05, 0.065, 0.085, 0.1):
            matched = sum(1 for (s, a, ok, _), apart in zip(right, pos_apart) if ok and s >= cosine and a >= lead
                          and not apart)
            wrong = sum(1 for (s, a, ok, _), apart in zip(right, pos_apart) if not ok and s >= cosine and a >= lead
                        and not apart)
            false = [q for q, (s, a, _), apart in zip(neg_questions, neg_scores, neg_apart)
                     if s >= cosine and a >= lead and not apart]
            print(f"  cosine {cosine:.2f} margin {lead:.3f}: paraphrases matched {matched}/{len(right)}, "
                  f"to the wrong entry {wrong}, other questions matched {len(false)}/{len(neg_scores)}"
                  + (f" e.g. {false[:3]}" if false else ""))
    contrasted = [q for q, apart in zip(neg_questions, neg_apart) if apart]
    print(f"contrasts caught: {len(contrasted)} {contrasted}; paraphrases wrongly caught: "
          f"{[q for (q, _), apart in zip(positives, pos_apart) if apart]}")
    for s, a, ok, q in sorted(right, key=lambda r: r[1]):
        print(f"    cosine {s:.4f} margin {a:+.4f} {'ok   ' if ok else 'WRONG'} {q}")


if __name__ == "__main__":
    main()
