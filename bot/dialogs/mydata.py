"""/mydata: the employee's own data, sent to them as a zip file in the chat they asked from."""

from __future__ import annotations

from bot.dialogs.talk import Talk
from core.chat import OutgoingFile
from core.domain.mydata import ExportTooSoon
from core.services.mydata import export_my_data


def export(talk: Talk) -> None:
    try:
        made = export_my_data(talk.ctx, talk.employee.id, channel=talk.session.platform)
    except ExportTooSoon as early:
        talk.say("chat.mydata_too_soon", next_at=talk.t.when(str(early.params["next_at"])))
        return
    talk.send_file(
        "chat.mydata_ready",
        OutgoingFile(made.filename, made.content_type, made.content),
        filename=made.filename,
        documents=made.documents,
    )
