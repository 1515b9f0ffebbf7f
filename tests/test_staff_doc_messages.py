"""The staff tab's document messages after 更新索引 (web QA: "点击“更新索引”后…" stayed after the refresh had run).

Upload, delete, repeal and undoing a repeal each say the change takes effect with the next refresh; once the refresh
has put the change in the index generation in use, the message says 已生效, and until then (no refresh yet, a refresh
that failed, a visitor) it is left as it was. Same mechanism as the staff answers' message (``web/pending.py``).
"""

from __future__ import annotations

import pytest

from web_fixtures import PARKING_DOC, STAFF_PASSWORD, STAFF_USER, fake_kb

gr = pytest.importorskip("gradio")

from kb_bot.errors import KbBotError  # noqa: E402
from kb_bot.web.app import build_app  # noqa: E402
from kb_bot.web.staff import DocumentChange  # noqa: E402
from kb_bot.web.staff_tab import DocsSettled  # noqa: E402
from test_web_app import staff_request  # noqa: E402

UNCHANGED = {"__type__": "update"}
LEFT_ALONE = DocsSettled(UNCHANGED, UNCHANGED, UNCHANGED, UNCHANGED)
UPLOADED = "停车补贴.md"


@pytest.fixture
def staff(tmp_path):
    kb = fake_kb(tmp_path, admin_user=STAFF_USER, admin_password=STAFF_PASSWORD)
    demo = build_app(kb)
    token = demo.kb_staff.gate.login(STAFF_USER, STAFF_PASSWORD, "127.0.0.1")[2].token
    return demo, demo.kb_tabs.staff, staff_request(token)


def test_upload_and_delete_messages_say_in_effect_once_the_refresh_has_indexed_them(staff, tmp_path, monkeypatch):
    demo, tab, session = staff
    upload = tmp_path / "upload" / UPLOADED
    upload.parent.mkdir()
    upload.write_text(PARKING_DOC, encoding="utf-8")
    uploaded = tab.upload(str(upload), False, session)
    assert "点击“更新索引”后即可用于问答" in uploaded.upload_msg
    assert uploaded.upload_pending == DocumentChange(DocumentChange.UPLOADED, UPLOADED)

    # Not refreshed yet, a refresh that failed, a visitor: the message holds, still true.
    assert tab.after_refresh(uploaded.upload_pending, "", session) == LEFT_ALONE
    assert tab.after_refresh(uploaded.upload_pending, "", staff_request()) == LEFT_ALONE
    with monkeypatch.context() as patch:
        def broken() -> None:
            raise KbBotError("磁盘已满 / disk full")
        patch.setattr(demo.kb_staff.web, "refresh", broken)
        assert "磁盘已满" in tab.refresh(session).refresh_msg
        assert tab.after_refresh(uploaded.upload_pending, "", session) == LEFT_ALONE

    assert "新增：1" in tab.refresh(session).refresh_msg
    done = tab.after_refresh(uploaded.upload_pending, "", session)
    assert done.upload_msg.startswith("**已生效**") and UPLOADED in done.upload_msg
    assert "更新索引" not in done.upload_msg and done.upload_pending == ""
    assert (done.delete_msg, done.delete_pending) == (UNCHANGED, UNCHANGED)  # nothing pending there: left alone
    assert tab.after_refresh("", "", session) == LEFT_ALONE

    # A refused action promises nothing, so a later refresh does not overwrite its refusal.
    refused = tab.delete(UPLOADED, False, session)
    assert "确认删除" in refused.delete_msg and refused.delete_pending == ""
    deleted = tab.delete(UPLOADED, True, session)
    assert "点击“更新索引”后" in deleted.delete_msg
    assert deleted.delete_pending == DocumentChange(DocumentChange.DELETED, UPLOADED)
    assert tab.after_refresh("", deleted.delete_pending, session) == LEFT_ALONE  # still in the index in use
    assert "删除：1" in tab.refresh(session).refresh_msg
    gone = tab.after_refresh("", deleted.delete_pending, session)
    assert gone.delete_msg.startswith("**已生效**") and UPLOADED in gone.delete_msg and "不再引用" in gone.delete_msg
    assert gone.delete_pending == "" and (gone.upload_msg, gone.upload_pending) == (UNCHANGED, UNCHANGED)


def test_repeal_messages_say_in_effect_only_when_the_index_holds_the_mark(staff):
    demo, tab, session = staff
    documents = demo.kb_staff.settings.documents
    marked = tab.repeal("education.md", session)
    assert "点击“更新索引”后" in marked.delete_msg
    assert marked.delete_pending == DocumentChange(DocumentChange.REPEALED, "education.md")
    assert tab.after_refresh("", marked.delete_pending, session) == LEFT_ALONE
    tab.refresh(session)
    done = tab.after_refresh("", marked.delete_pending, session)
    assert done.delete_msg.startswith("**已生效**") and "已废止" in done.delete_msg and done.delete_pending == ""

    restored = tab.restore("education.md", session)
    assert restored.delete_pending == DocumentChange(DocumentChange.IN_FORCE, "education.md")
    tab.refresh(session)
    back = tab.after_refresh("", restored.delete_pending, session)
    assert back.delete_msg.startswith("**已生效**") and "重新引用" in back.delete_msg

    # The index holds the file as on disk, but without the mark (taken out by hand before the refresh): the
    # repeal is not in effect, so its message is not turned into 已生效.
    marked = tab.repeal("education.md", session)
    path = documents / "education.md"
    path.write_text(path.read_text(encoding="utf-8").replace("status: repealed", "title_note: kept"), encoding="utf-8")
    tab.refresh(session)
    assert tab.after_refresh("", marked.delete_pending, session) == LEFT_ALONE


def test_the_refresh_chain_ends_by_settling_the_document_messages(staff):
    demo, tab, _ = staff
    settled = {w._id for w in (tab.upload_msg, tab.upload_pending, tab.delete_msg, tab.delete_pending)}
    chain = [d for d in demo.config["dependencies"] if set(d["outputs"]) == settled]
    assert len(chain) == 1 and chain[0]["inputs"] == [tab.upload_pending._id, tab.delete_pending._id]
    # A step of the refresh button's chain (after the refresh and the staff answers' step), not an event of its own.
    dependencies, step, names = demo.config["dependencies"], chain[0], []
    while step["trigger_after"] is not None:
        step = next(d for d in dependencies if d["id"] == step["trigger_after"])
        names.append(step.get("api_name"))
    assert "staff_refresh" in names and step["targets"][0][0] == tab.refresh_btn._id
    # Every handler that writes a message promising the refresh also writes what it promises.
    for name in ("staff_upload", "staff_delete", "staff_repeal", "staff_restore"):
        event = next(d for d in demo.config["dependencies"] if d.get("api_name") == name)
        assert {tab.upload_pending._id, tab.delete_pending._id} & set(event["outputs"]), name
