"""A fake Telegram data centre on 127.0.0.1: just enough MTProto 2.0 for Telethon to talk to.

Telegram's API is not HTTP, so the replay server cannot stand in for it. This server speaks
the real protocol with Telethon's own public building blocks (``telethon.crypto.AES`` for
AES-256-IGE, ``telethon.extensions.BinaryReader`` and the ``telethon.tl`` objects for
(de)serialising, ``bytes(obj)``), so the collector's real client code runs unchanged:

* transport: TCP "full" (the one Telethon uses by default): ``len | seq | payload | crc32``;
* MTProto 2.0 encryption with an auth key the test shares with it through a StringSession
  (no key exchange: the session already carries the key, as an operator's does): msg_key
  over ``auth_key[88+x:120+x]`` and the AES key/IV derivation with x = 0 from the client,
  x = 8 from the server;
* service messages: ``bad_server_salt`` (Telethon's first salt is 0 and must be corrected,
  as Telegram does), ``new_session_created``, ``msg_container``, ``gzip_packed`` (both
  ways: results over 512 bytes go out packed, as Telegram's do),
  ``msgs_ack``, ``ping``/``pong`` and ``rpc_result`` / ``rpc_error``;
* the RPCs a collection sends: invokeWithLayer(initConnection(help.getConfig)),
  users.getUsers (Telethon's get_me on connect), updates.getState/getDifference,
  help.getNearestDc, contacts.resolveUsername and messages.getHistory (paged the way
  Telegram documents it: ``offset_id``, ``offset_date``, ``add_offset``, ``limit``,
  ``max_id``, ``min_id``, newest first), and Telegram's errors for the cases a test names
  (``FLOOD_WAIT_X``, ``AUTH_KEY_UNREGISTERED``, ``SESSION_REVOKED``, ``API_ID_INVALID``,
  ``USERNAME_NOT_OCCUPIED``, ``CHANNEL_PRIVATE``).

Every RPC it answers is recorded in ``calls`` (method name and the request's fields) so
tests assert what the collector asked for. Channels are loaded from recorded JSON in the
shape of Telethon's ``to_dict()`` (``{"_": "Message", ...}``), turned into real TL objects.
"""

from __future__ import annotations

import json
import os
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from hashlib import sha256
from pathlib import Path
from typing import Any
from zlib import crc32

from telethon.crypto import AES, AuthKey
from telethon.extensions import BinaryReader
from telethon.sessions import StringSession
from telethon.tl import TLRequest, functions, types
from telethon.tl.core import GzipPacked, MessageContainer

RESPONSES = Path(__file__).parent / "responses" / "telegram"
DC_ID = 2
SELF_USER_ID = 777000111
RPC_RESULT = 0xF35C6D01
VECTOR = 0x1CB5C415
# An address nothing answers on (TEST-NET-1): a session pointing here reaches the fake DC
# only through the operator's TELEGRAM_MTPROTO_SERVER override.
UNROUTABLE_DC = "192.0.2.1"


def make_session(auth_key: bytes, ip: str = UNROUTABLE_DC, port: int = 443) -> str:
    """A Telethon StringSession as an operator's login leaves it: DC, address, auth key."""
    session = StringSession()
    session.set_dc(DC_ID, ip, port)
    session.auth_key = AuthKey(auth_key)
    return session.save()


def _aes_key_iv(auth_key: bytes, msg_key: bytes, x: int) -> tuple[bytes, bytes]:
    # https://core.telegram.org/mtproto/description#defining-aes-key-and-initialization-vector
    a = sha256(msg_key + auth_key[x : x + 36]).digest()
    b = sha256(auth_key[x + 40 : x + 76] + msg_key).digest()
    return a[:8] + b[8:24] + a[24:32], b[:8] + a[8:24] + b[24:32]


def tl_object(value: Any) -> Any:
    """A TL object from its ``to_dict()`` form: ``{"_": "Message", ...}``; ``*date`` fields
    given as ISO strings become datetimes."""
    if isinstance(value, list):
        return [tl_object(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "_" not in value:
        return {k: tl_object(v) for k, v in value.items()}
    cls: Any = types
    for part in value["_"].split("."):
        cls = getattr(cls, part)
    kwargs = {}
    for key, item in value.items():
        if key == "_":
            continue
        if key.endswith("date") and isinstance(item, str):
            item = datetime.fromisoformat(item)
        kwargs[key] = tl_object(item)
    return cls(**kwargs)


@dataclass
class FakeChannel:
    channel: types.Channel
    messages: list[Any]  # types.Message / types.MessageService, any order
    related: list[Any] = field(default_factory=list)  # chats named in fwd_from
    private: bool = False  # CHANNEL_PRIVATE: the account was banned or the channel closed


def load_channel(name: str) -> FakeChannel:
    """A recorded channel (``responses/telegram/<name>``): its Channel, chats and messages."""
    data = json.loads((RESPONSES / name).read_text(encoding="utf-8"))
    channel = tl_object(data["channel"])
    messages = []
    for raw in data["messages"]:
        raw.setdefault("peer_id", {"_": "PeerChannel", "channel_id": channel.id})
        messages.append(tl_object(raw))
    return FakeChannel(channel, messages, [tl_object(c) for c in data.get("chats", [])])


def numbered_channel(username: str, channel_id: int, ids: range, first: datetime, step: timedelta):
    """A channel of plain Danish text posts, one per ``step`` from ``first`` (id order)."""
    channel = types.Channel(
        id=channel_id,
        title=f"Debat {username} 🗣️",
        photo=types.ChatPhotoEmpty(),
        date=first - timedelta(days=30),
        broadcast=True,
        access_hash=channel_id * 7 + 1,
        username=username,
    )
    messages = [
        types.Message(
            id=i,
            peer_id=types.PeerChannel(channel_id),
            date=first + step * (i - ids.start),
            message=f"Indlæg {i}: grønland og økonomi ✅",
            post=True,
            views=100 + i,
            forwards=i % 7,
            replies=types.MessageReplies(replies=i % 3, replies_pts=i),
        )
        for i in ids
    ]
    return FakeChannel(channel, messages)


@dataclass
class Call:
    method: str  # e.g. "messages.GetHistory"
    params: dict[str, Any]


class _RpcError(Exception):
    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code, self.message = code, message


@dataclass
class _Session:
    salt: int
    seq: int = 0


class FakeDc:
    """One fake data centre. ``channels`` by lower-case username; ``auth_error`` (e.g.
    ``AUTH_KEY_UNREGISTERED``) answers every call that needs a login with a 401;
    ``api_id_error`` refuses initConnection; ``fail(method, error)`` answers a later call of
    a method with an error (``FLOOD_WAIT_3``)."""

    def __init__(self, auth_key: bytes):
        self.key = AuthKey(auth_key)
        self.channels: dict[str, FakeChannel] = {}
        self.auth_error: str | None = None
        self.api_id_error = False
        self.calls: list[Call] = []
        self.api_ids: list[int] = []
        # What the fake DC itself got wrong (a test's data it cannot serialise): answered
        # as an INTERNAL error so the client never waits for a reply that will not come.
        self.errors: list[str] = []
        self.connections = 0
        self.gzipped = 0  # results sent gzip_packed
        self.salt_corrections = 0  # bad_server_salt sent (then the client resends)
        self._failures: list[list[Any]] = []  # [method, calls to let through, code, error]
        self._sessions: dict[int, _Session] = {}
        self._last_msg_id = 0
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.host, self.port = self._listener.getsockname()[:2]
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    # -- test controls -------------------------------------------------------------------

    def add(self, channel: FakeChannel) -> FakeChannel:
        self.channels[channel.channel.username.lower()] = channel
        return channel

    def fail(self, method: str, error: str, code: int = 420, after: int = 0) -> None:
        """Answer the call of ``method`` after the next ``after`` ones with ``error``."""
        self._failures.append([method, after, code, error])

    def requests(self, method: str) -> list[dict[str, Any]]:
        return [c.params for c in self.calls if c.method == method]

    def close(self) -> None:
        try:
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the accept() (close alone does not)
        except OSError:
            pass
        self._listener.close()
        for sock in list(self._sockets):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()
        self._thread.join(timeout=5)

    # -- transport -----------------------------------------------------------------------

    def _accept(self) -> None:
        while True:
            try:
                sock, _ = self._listener.accept()
            except OSError:
                return  # closed
            self.connections += 1
            self._sockets.append(sock)
            threading.Thread(target=self._serve, args=(sock,), daemon=True).start()

    def _serve(self, sock: socket.socket) -> None:
        sent = [0]  # the transport's own sequence number, server side

        def send(payload: bytes) -> None:
            head = struct.pack("<ii", len(payload) + 12, sent[0]) + payload
            sent[0] += 1
            sock.sendall(head + struct.pack("<I", crc32(head)))

        try:
            while True:
                head = _read_exactly(sock, 8)
                length, _seq = struct.unpack("<ii", head)
                rest = _read_exactly(sock, length - 8)
                body, checksum = rest[:-4], struct.unpack("<I", rest[-4:])[0]
                if crc32(head + body) != checksum:
                    return  # a broken frame: Telegram drops the connection
                for reply in self._packet(body):
                    send(reply)
        except (ConnectionError, OSError):
            return
        finally:
            sock.close()

    # -- MTProto -------------------------------------------------------------------------

    def _packet(self, body: bytes) -> list[bytes]:
        (key_id,) = struct.unpack("<Q", body[:8])
        if key_id != self.key.key_id:
            return [struct.pack("<i", -404)]  # Telegram's "auth key not found"
        msg_key = body[8:24]
        aes_key, aes_iv = _aes_key_iv(self.key.key, msg_key, 0)
        plain = AES.decrypt_ige(body[24:], aes_key, aes_iv)
        if sha256(self.key.key[88:120] + plain).digest()[8:24] != msg_key:
            return []  # Telegram ignores a message whose msg_key does not check
        salt, session_id, msg_id, seq_no, size = struct.unpack("<qqqii", plain[:32])
        payload = plain[32 : 32 + size]
        with self._lock:
            session = self._sessions.get(session_id)
            new = session is None
            if new:
                session = self._sessions[session_id] = _Session(
                    salt=struct.unpack("<q", os.urandom(8))[0]
                )
        out: list[tuple[bytes, bool]] = []
        if salt != session.salt:
            self.salt_corrections += 1
            bad = types.BadServerSalt(msg_id, seq_no, 48, session.salt)
            return [self._encrypt(session_id, session, bytes(bad), False)]
        if new:
            created = types.NewSessionCreated(msg_id, int.from_bytes(os.urandom(7)), session.salt)
            out.append((bytes(created), False))
        self._message(msg_id, BinaryReader(payload).tgread_object(), out)
        return [self._encrypt(session_id, session, data, related) for data, related in out]

    def _message(self, msg_id: int, obj: Any, out: list[tuple[bytes, bool]]) -> None:
        if isinstance(obj, MessageContainer):
            for inner in obj.messages:
                self._message(inner.msg_id, inner.obj, out)
        elif isinstance(obj, GzipPacked):
            self._message(msg_id, BinaryReader(obj.data).tgread_object(), out)
        elif isinstance(obj, types.MsgsAck):
            return
        elif isinstance(obj, functions.PingRequest | functions.PingDelayDisconnectRequest):
            out.append((bytes(types.Pong(msg_id, obj.ping_id)), False))
        elif isinstance(obj, TLRequest):
            try:
                result = self._rpc(obj)
            except _RpcError as exc:
                result = bytes(types.RpcError(exc.code, exc.message))
            except Exception as exc:
                self.errors.append(f"{type(obj).__name__}: {type(exc).__name__}: {exc}")
                result = bytes(types.RpcError(500, "FAKE_DC_INTERNAL"))
            # Telegram packs large results (a page of history) as gzip_packed, as Telethon
            # does its large requests: the same threshold, so both code paths run.
            result = GzipPacked.gzip_if_smaller(True, result)
            self.gzipped += result[:4] == struct.pack("<I", GzipPacked.CONSTRUCTOR_ID)
            out.append((struct.pack("<Iq", RPC_RESULT, msg_id) + result, True))

    def _encrypt(self, session_id: int, session: _Session, data: bytes, related: bool) -> bytes:
        with self._lock:
            now = time.time()
            msg_id = ((int(now) << 32) | (int((now % 1) * 2**30) << 2)) | 1
            msg_id = max(msg_id, self._last_msg_id + 4)
            self._last_msg_id = msg_id
            seq_no = session.seq * 2 + 1 if related else session.seq * 2
            session.seq += 1 if related else 0
        inner = struct.pack("<qqqii", session.salt, session_id, msg_id, seq_no, len(data)) + data
        plain = inner + os.urandom(-(len(inner) + 12) % 16 + 12)
        msg_key = sha256(self.key.key[96:128] + plain).digest()[8:24]
        aes_key, aes_iv = _aes_key_iv(self.key.key, msg_key, 8)
        return (
            struct.pack("<Q", self.key.key_id) + msg_key + AES.encrypt_ige(plain, aes_key, aes_iv)
        )

    # -- RPCs ----------------------------------------------------------------------------

    def _rpc(self, request: TLRequest) -> bytes:
        while True:  # the wrappers Telethon puts around its first request
            if isinstance(request, functions.InitConnectionRequest):
                self.api_ids.append(request.api_id)
                if self.api_id_error:
                    raise _RpcError(400, "API_ID_INVALID")
            if isinstance(
                request,
                functions.InvokeWithLayerRequest
                | functions.InitConnectionRequest
                | functions.InvokeWithoutUpdatesRequest,
            ):
                request = request.query
                continue
            break
        namespace = type(request).__module__.rsplit(".", 1)[-1]
        method = f"{namespace}.{type(request).__name__.removesuffix('Request')}"
        params = {k: v for k, v in request.to_dict().items() if k != "_"}
        self.calls.append(Call(method, params))
        for index, failure in enumerate(self._failures):
            if failure[0] == method:
                if failure[1] > 0:
                    failure[1] -= 1
                    break
                del self._failures[index]
                raise _RpcError(failure[2], failure[3])
        if self.auth_error and not method.startswith("help."):
            raise _RpcError(401, self.auth_error)
        handler = getattr(self, "_" + method.replace(".", "_"), None)
        if handler is None:
            raise _RpcError(400, "METHOD_NOT_IN_FAKE_DC")
        return handler(request)

    def _help_GetConfig(self, _request) -> bytes:
        now = datetime.now(UTC)
        config = types.Config(
            date=now, expires=now + timedelta(hours=1), test_mode=False, this_dc=DC_ID,
            dc_options=[types.DcOption(DC_ID, self.host, self.port)], dc_txt_domain_name="",
            chat_size_max=200, megagroup_size_max=200000, forwarded_count_max=100,
            online_update_period_ms=210000, offline_blur_timeout_ms=5000,
            offline_idle_timeout_ms=30000, online_cloud_timeout_ms=300000,
            notify_cloud_delay_ms=30000, notify_default_delay_ms=1500,
            push_chat_period_ms=60000, push_chat_limit=2, edit_time_limit=172800,
            revoke_time_limit=2147483647, revoke_pm_time_limit=2147483647,
            rating_e_decay=2419200, stickers_recent_limit=200,
            channels_read_media_period=604800, call_receive_timeout_ms=20000,
            call_ring_timeout_ms=90000, call_connect_timeout_ms=30000,
            call_packet_timeout_ms=10000, me_url_prefix="https://t.me/",
            caption_length_max=1024, message_length_max=4096, webfile_dc_id=4,
        )  # fmt: skip
        return bytes(config)

    def _help_GetNearestDc(self, _request) -> bytes:
        return bytes(types.NearestDc("DK", DC_ID, DC_ID))

    def _users_GetUsers(self, _request) -> bytes:
        me = types.User(
            id=SELF_USER_ID, is_self=True, access_hash=424242, first_name="Observatoriet"
        )
        return struct.pack("<Ii", VECTOR, 1) + bytes(me)

    def _updates_GetState(self, _request) -> bytes:
        return bytes(
            types.updates.State(pts=1, qts=0, date=datetime.now(UTC), seq=1, unread_count=0)
        )

    def _updates_GetDifference(self, _request) -> bytes:
        return bytes(types.updates.DifferenceEmpty(date=datetime.now(UTC), seq=1))

    def _contacts_ResolveUsername(self, request) -> bytes:
        found = self.channels.get(request.username.lower())
        if found is None:
            raise _RpcError(400, "USERNAME_NOT_OCCUPIED")
        peer = types.PeerChannel(found.channel.id)
        return bytes(types.contacts.ResolvedPeer(peer=peer, chats=[found.channel], users=[]))

    def _messages_GetHistory(self, request) -> bytes:
        peer = request.peer
        found = next(
            (c for c in self.channels.values() if c.channel.id == getattr(peer, "channel_id", 0)),
            None,
        )
        if found is None or peer.access_hash != found.channel.access_hash:
            raise _RpcError(400, "CHANNEL_INVALID")
        if found.private:
            raise _RpcError(400, "CHANNEL_PRIVATE")
        newest_first = sorted(found.messages, key=lambda m: m.id, reverse=True)
        start = 0
        if request.offset_id:
            start = next(
                (i for i, m in enumerate(newest_first) if m.id < request.offset_id),
                len(newest_first),
            )
        elif request.offset_date:
            start = next(
                (i for i, m in enumerate(newest_first) if m.date < request.offset_date),
                len(newest_first),
            )
        start = max(0, start + request.add_offset)
        page = [
            m
            for m in newest_first[start : start + min(request.limit, 100)]
            if (not request.max_id or m.id < request.max_id)
            and (not request.min_id or m.id > request.min_id)
        ]
        return bytes(
            types.messages.ChannelMessages(
                pts=len(newest_first) + 1,
                count=len(newest_first),
                messages=page,
                topics=[],
                chats=[found.channel, *found.related],
                users=[],
            )
        )


def _read_exactly(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError("client closed the connection")
        data += chunk
    return data
