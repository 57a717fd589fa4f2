"""The fake Bot API's state and methods, independent of the transport (HTTP server or in-process).

Tests inject user messages and button presses as updates, and read what the bot sent. Error
injection returns any status (429 with ``retry_after``, 400...) for the next calls of one method.
Limits the real API enforces and a bot can trip over are enforced too: 4096 characters per text,
1024 per caption, valid HTML for ``parse_mode=HTML``, "message is not modified" on a no-op edit.
"""

from __future__ import annotations

import asyncio
import html
import itertools
import json
import re
import time
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.fake_botapi.html_check import html_problem

BOT_ID = 7000000001
BOT_USERNAME = "fake_test_bot"
TOKEN = "123456:TEST-TOKEN"
MAX_TEXT = 4096
MAX_CAPTION = 1024
SENDING = ("sendMessage", "sendPhoto", "sendDocument", "editMessageText", "editMessageReplyMarkup")
_JSON_FIELDS = {"reply_markup", "commands", "entities", "caption_entities", "link_preview_options",
                "reply_parameters", "scope", "allowed_updates", "media", "menu_button"}
_INT_FIELDS = {"chat_id", "message_id", "offset", "limit", "timeout", "user_id", "cache_time"}
_BOT_USER = {"id": BOT_ID, "is_bot": True, "first_name": "FakeBot", "username": BOT_USERNAME}


@dataclass(frozen=True, slots=True)
class UploadedFile:
    """One multipart file part as received."""

    filename: str
    content: bytes
    content_type: str


@dataclass(frozen=True, slots=True)
class BotCall:
    """One Bot API call the bot made, with decoded parameters and uploaded files."""

    method: str
    params: dict[str, Any]
    files: dict[str, UploadedFile] = field(default_factory=dict)
    result: Any = None
    status: int = 200
    at: float = 0.0

    @property
    def chat_id(self) -> int | None:
        """Return the target chat id, if any."""
        value = self.params.get("chat_id")
        return int(value) if value is not None else None

    @property
    def text(self) -> str:
        """Return the message text or caption ('' when none)."""
        return str(self.params.get("text") or self.params.get("caption") or "")

    @property
    def shown(self) -> str:
        """Return the text as the user sees it: HTML tags removed and entities decoded."""
        if self.params.get("parse_mode") != "HTML":
            return self.text
        return html.unescape(re.sub(r"<[^>]+>", "", self.text))

    @property
    def buttons(self) -> list[tuple[str, str]]:
        """Return the inline keyboard as (label, callback_data) pairs, row by row."""
        markup = self.params.get("reply_markup") or {}
        return [(b["text"], b.get("callback_data", "")) for row in markup.get("inline_keyboard", [])
                for b in row]

    @property
    def message_id(self) -> int | None:
        """Return the id of the message this call created or edited."""
        if isinstance(self.result, dict):
            return int(self.result["message_id"])
        value = self.params.get("message_id")
        return int(value) if value is not None else None


class BotApiError(Exception):
    """An error response: HTTP status plus the Bot API error body."""

    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
        if retry_after is not None:
            self.body["parameters"] = {"retry_after": retry_after}


def decode_params(form: dict[str, str]) -> dict[str, Any]:
    """Decode PTB's form values: structured fields are JSON, ids are ints, booleans are JSON."""
    out: dict[str, Any] = {}
    for key, value in form.items():
        if key in _JSON_FIELDS or value in ("true", "false"):
            out[key] = json.loads(value)
        elif key in _INT_FIELDS and value.lstrip("-").isdigit():
            out[key] = int(value)
        else:
            out[key] = value
    return out


def user_message(message_id: int, text: str, *, chat_id: int = 42, user_id: int | None = None,
                 chat_type: str = "private", first_name: str = "Tester") -> dict[str, Any]:
    """Return a Message payload as Telegram sends it; a leading /command gets its bot_command entity."""
    user = {"id": user_id if user_id is not None else chat_id, "is_bot": False, "first_name": first_name,
            "language_code": "en"}
    message: dict[str, Any] = {
        "message_id": message_id, "date": int(time.time()), "text": text,
        "chat": {"id": chat_id, "type": chat_type, "first_name": first_name}, "from": user,
    }
    words = text.split(maxsplit=1)
    if text.startswith("/") and words:
        # Telegram counts entity offsets and lengths in UTF-16 code units.
        length = len(words[0].encode("utf-16-le")) // 2
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
    return message


class FakeBotApiCore:
    """State and method implementations shared by every transport."""

    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
        self.base_url = ""  # set by the HTTP server once it listens
        self.calls: list[BotCall] = []
        self.commands: dict[str, list[dict[str, str]]] = {}  # JSON of the scope ('' = default) -> menu
        self.messages: dict[tuple[int, int], dict[str, Any]] = {}  # (chat, message id) -> current
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1000)
        self._user_message_ids = itertools.count(1)
        self._cbq_ids = itertools.count(1)
        self._changed = asyncio.Condition()
        self._faults: dict[str, list[BotApiError]] = {}
        self.delays: dict[str, float] = {}  # method -> seconds before answering (a slow Bot API)
        self._cursor = 0
        self._releasing = False
        self.known_chats: set[int] = set()  # chats that talked to the bot; others are "not found"
        self.menu_buttons: dict[int, Any] = {}  # chat id (0: default) -> menu button

    # ── what tests call ──────────────────────────────────────────────────────────────────

    def inject_message(self, text: str, *, chat_id: int = 42, user_id: int | None = None,
                       chat_type: str = "private", first_name: str = "Tester") -> int:
        """Queue a user message; a leading /command gets its bot_command entity. Return the update id."""
        message = user_message(next(self._user_message_ids), text, chat_id=chat_id, user_id=user_id,
                               chat_type=chat_type, first_name=first_name)
        self.known_chats.update({chat_id, message["from"]["id"]})
        return self.inject_update({"message": message})

    def press_button(self, call: BotCall, label: str, *, user_id: int | None = None) -> int:
        """Queue a press on the inline button ``label`` of the message ``call`` sent or edited."""
        chat_id = call.chat_id if call.chat_id is not None else 0
        message = self.messages[(chat_id, call.message_id or 0)]
        buttons = dict(_buttons(message))
        if label not in buttons:
            raise KeyError(f"no button {label!r}; have {list(buttons)}")
        return self.inject_callback(message, buttons[label], user_id=user_id if user_id else chat_id)

    def inject_callback(self, message: dict[str, Any], data: str, *, user_id: int) -> int:
        """Queue a callback query with raw ``data`` on ``message`` (use for forged or stale data)."""
        query = {"id": f"cbq-{next(self._cbq_ids)}", "chat_instance": "ci-1", "data": data,
                 "from": {"id": user_id, "is_bot": False, "first_name": "Tester"}, "message": message}
        return self.inject_update({"callback_query": query})

    def inject_update(self, payload: dict[str, Any]) -> int:
        """Queue a raw update payload (one of message, callback_query...) and wake pollers."""
        update_id = next(self._update_ids)
        self._updates.append({"update_id": update_id, **payload})
        asyncio.get_running_loop().create_task(self._notify())
        return update_id

    def fail_next(self, method: str, status: int = 429, *, times: int = 1, retry_after: int | None = 1,
                  description: str | None = None) -> None:
        """Make the next ``times`` calls of ``method`` fail with ``status`` (429: Too Many Requests)."""
        text = description or (f"Too Many Requests: retry after {retry_after}" if status == 429
                               else "Bad Request: injected")
        errors = [BotApiError(status, text, retry_after if status == 429 else None) for _ in range(times)]
        self._faults.setdefault(method, []).extend(errors)

    async def release_polls(self) -> None:
        """Answer pending and future long polls at once (lets a bot shut down without waiting)."""
        self._releasing = True
        await self._notify()

    def sent(self, *methods: str) -> list[BotCall]:
        """Return the successful calls of ``methods`` (default: everything that sends or edits)."""
        wanted = methods or SENDING
        return [c for c in self.calls if c.method in wanted and c.status == 200]

    async def next_call(self, *methods: str, within: float = 5.0, chat_id: int | None = None) -> BotCall:
        """Wait for the next successful call of ``methods`` (to ``chat_id``, if given) after the last one."""
        wanted = methods or SENDING
        found: list[BotCall] = []

        def ready() -> bool:
            for i in range(self._cursor, len(self.calls)):
                call = self.calls[i]
                if call.method in wanted and call.status == 200 and chat_id in (None, call.chat_id):
                    self._cursor = i + 1
                    found.append(self.calls[i])
                    return True
            return False

        async with self._changed:
            try:
                await asyncio.wait_for(self._changed.wait_for(ready), within)
            except TimeoutError:
                raise AssertionError(f"the bot sent no {'/'.join(wanted)} within {within} s") from None
        return found[0]

    def skip_pending(self) -> None:
        """Move the next_call cursor past everything recorded so far."""
        self._cursor = len(self.calls)

    # ── dispatch ─────────────────────────────────────────────────────────────────────────

    async def handle(self, token: str, method: str, form: dict[str, str],
                     files: dict[str, UploadedFile]) -> tuple[int, dict[str, Any]]:
        """Run one Bot API method and return (HTTP status, JSON body)."""
        if token != self.token:
            return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
        params = decode_params(form)
        if self.delays.get(method):
            await asyncio.sleep(self.delays[method])
        try:
            if self._faults.get(method):
                raise self._faults[method].pop(0)
            impl = getattr(self, f"_m_{method}", None)
            if impl is None:
                raise BotApiError(404, "Not Found")
            result = await impl(params, files)
        except BotApiError as exc:
            await self._record(BotCall(method, params, files, None, exc.status, time.monotonic()))
            return exc.status, exc.body
        await self._record(BotCall(method, params, files, result, 200, time.monotonic()))
        return 200, {"ok": True, "result": result}

    async def _record(self, call: BotCall) -> None:
        if call.method != "getUpdates":
            self.calls.append(call)
            await self._notify()

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    # ── methods ──────────────────────────────────────────────────────────────────────────

    async def _m_getMe(self, p: dict[str, Any], f: dict[str, UploadedFile]) -> Any:
        return {**_BOT_USER, "can_join_groups": True, "can_read_all_group_messages": False,
                "supports_inline_queries": False}

    async def _m_deleteWebhook(self, p: dict[str, Any], f: dict[str, UploadedFile]) -> Any:
        return True

    async def _m_setChatMenuButton(self, p: dict[str, Any], f: dict[str, UploadedFile]) -> Any:
        if "chat_id" in p and int(p["chat_id"]) not in self.known_chats:
            raise BotApiError(400, "Bad Request: chat not found")
        self.menu_buttons[int(p.get("chat_id", 0))] = p.get("menu_button") or {}
        return True

    async def _m_setMyCommands(self, p: dict[str, Any], f: dict[str, UploadedFile]) -> Any:
        scope = p.get("scope") or {}
        if "chat_id" in scope and int(scope["chat_id"]) not in self.known_chats:
            raise BotApiError(400, "Bad Request: chat not found")
        self.commands[_scope_key(p.get("scope"))] = list(p.get("commands", []))
        return True

    async def _m_getMyCommands(self, p: dict[str, Any], f: dict[str, UploadedFile]) -> Any:
        return self.commands.get(_scope_key(p.get("scope")), [])

    async def _m_sendChatAction(self, p: dict[str, Any], f: dict[str, UploadedFile]) -> Any:
        return True

    async def _m_answerCallbackQuery(self, p: dict[str, Any], f: dict[str, UploadedFile]) -> Any:
        if len(str(p.get("text", ""))) > 200:
            raise BotApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        return True

    async def _m_getUpdates(self, p: dict[str, Any], f: dict[str, UploadedFile]) -> Any:
        offset, timeout = int(p.get("offset", 0)), float(p.get("timeout", 0))
        self._updates = [u for u in self._updates if u["update_id"] >= offset]
        if not self._updates and timeout > 0 and not self._releasing:
            async with self._changed:
                try:
                    ready = lambda: bool(self._updates) or self._releasing  # noqa: E731
                    await asyncio.wait_for(self._changed.wait_for(ready), timeout)
                except TimeoutError:
                    pass
        return self._updates[: int(p.get("limit", 100))]

    async def _m_sendMessage(self, p: dict[str, Any], f: dict[str, UploadedFile]) -> Any:
        text = str(p.get("text", ""))
        _check_text(text, MAX_TEXT, p.get("parse_mode"), "message text")
        return self._store(p, {"text": text})

    async def _m_sendPhoto(self, p: dict[str, Any], f: dict[str, UploadedFile]) -> Any:
        photo = f.get("photo")
        if photo is None or not photo.content:
            raise BotApiError(400, "Bad Request: there is no photo in the request")
        _check_text(str(p.get("caption", "")), MAX_CAPTION, p.get("parse_mode"), "caption", empty_ok=True)
        size = {"file_id": f"photo-{len(self.calls)}", "file_unique_id": "u", "width": 800,
                "height": 500, "file_size": len(photo.content)}
        return self._store(p, {"photo": [size], "caption": p.get("caption", "")})

    async def _m_sendDocument(self, p: dict[str, Any], f: dict[str, UploadedFile]) -> Any:
        doc = f.get("document")
        if doc is None or not doc.content:
            raise BotApiError(400, "Bad Request: there is no document in the request")
        _check_text(str(p.get("caption", "")), MAX_CAPTION, p.get("parse_mode"), "caption", empty_ok=True)
        document = {"file_id": f"doc-{len(self.calls)}", "file_unique_id": "d", "file_name": doc.filename,
                    "file_size": len(doc.content)}
        return self._store(p, {"document": document, "caption": p.get("caption", "")})

    async def _m_editMessageText(self, p: dict[str, Any], f: dict[str, UploadedFile]) -> Any:
        message = self._existing(p)
        text = str(p.get("text", ""))
        _check_text(text, MAX_TEXT, p.get("parse_mode"), "message text")
        markup = p.get("reply_markup")
        if message.get("text") == text and message.get("reply_markup") == markup:
            raise BotApiError(400, "Bad Request: message is not modified")
        message["text"] = text
        _set_markup(message, markup)
        return message

    async def _m_editMessageReplyMarkup(self, p: dict[str, Any], f: dict[str, UploadedFile]) -> Any:
        message = self._existing(p)
        markup = p.get("reply_markup")
        if message.get("reply_markup") == markup:
            raise BotApiError(400, "Bad Request: message is not modified")
        _set_markup(message, markup)
        return message

    def _existing(self, p: dict[str, Any]) -> dict[str, Any]:
        key = (int(p.get("chat_id", 0)), int(p.get("message_id", 0)))
        if key not in self.messages:
            raise BotApiError(400, "Bad Request: message to edit not found")
        return self.messages[key]

    def _store(self, p: dict[str, Any], content: dict[str, Any]) -> dict[str, Any]:
        if "chat_id" not in p:
            raise BotApiError(400, "Bad Request: chat_id is empty")
        chat_id = int(p["chat_id"])
        message = {"message_id": next(self._message_ids), "date": int(time.time()),
                   "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "group"},
                   "from": dict(_BOT_USER), **content}
        _set_markup(message, p.get("reply_markup"))
        self.messages[(chat_id, message["message_id"])] = message
        return message


def _scope_key(scope: Any) -> str:
    if not scope or scope.get("type") == "default":
        return ""
    return json.dumps(scope, sort_keys=True)


def _check_text(text: str, limit: int, parse_mode: Any, what: str, *, empty_ok: bool = False) -> None:
    if not text.strip() and not empty_ok:
        raise BotApiError(400, f"Bad Request: {what} is empty")
    if len(text) > limit:
        raise BotApiError(400, f"Bad Request: {what} is too long")
    if parse_mode == "HTML" and (problem := html_problem(text)):
        raise BotApiError(400, f"Bad Request: {problem}")


def _set_markup(message: dict[str, Any], markup: Any) -> None:
    if markup and markup.get("inline_keyboard"):
        message["reply_markup"] = markup
    else:
        message.pop("reply_markup", None)


def _buttons(message: dict[str, Any]) -> list[tuple[str, str]]:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    return [(b["text"], b.get("callback_data", "")) for row in rows for b in row]
