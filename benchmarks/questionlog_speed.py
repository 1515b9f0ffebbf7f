"""How much logging adds to an answer: the time of ``QuestionLog.record`` on the request thread.

The write itself happens on a background thread; what an answer pays is building the record and
putting it on the queue. Target: <= 2 ms. Usage: ``python benchmarks/questionlog_speed.py``.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kb_bot.answering.answer import Answer, Citation  # noqa: E402
from kb_bot.staff.questionlog import QuestionLog  # noqa: E402


def main(n: int = 5000) -> None:
    citation = Citation("advanced-manufacturing.md", "“零距离”服务", "开发区", "助企纾困有温度", "文" * 200, (0, 50), 0.8, "c")
    answer = Answer("招聘会帮企业招到了多少人？", True, "对于用工短缺企业……[1]" * 3, (citation,) * 3, confidence=0.73)
    with tempfile.TemporaryDirectory() as folder:
        qlog = QuestionLog(Path(folder) / "questions.jsonl")
        qlog.record(answer)
        qlog.flush(30)
        times = []
        for _ in range(n):
            started = time.perf_counter()
            qlog.record(answer)
            times.append((time.perf_counter() - started) * 1000)
            if len(times) % 500 == 0:  # let the writer keep up, as between real questions
                qlog.flush(30)
        qlog.close()
    times.sort()
    print(f"record() on the answering thread, {n} calls: median {statistics.median(times):.3f} ms, "
          f"p99 {times[int(n * 0.99)]:.3f} ms, max {times[-1]:.3f} ms (target <= 2 ms)")


if __name__ == "__main__":
    main()
