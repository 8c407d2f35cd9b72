"""Who is to be erased: an actor, or one platform identity; checked before anything is read.

A platform identity is found the way the collection stored it: by the keyed pseudonym of
``platform:platform_user_id`` (``security.pseudonymize.pseudonymize``, the one function the
enrichment uses), never by comparing raw ids. A platform identity that an actor's presence
names is that actor: the whole actor is erased (every presence and its records), since the
actor is the person the researcher recorded. See docs/erasure.md.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from sqlalchemy import Connection, text

from observatory_pipelines.security.pseudonymize import pseudonymize

_PLATFORM = re.compile(r"^[a-z][a-z0-9_]{0,49}$")
# A case number, not a sentence: a reference with a person's name in it would put personal
# data into the log, so spaces and most punctuation are refused.
_REFERENCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/#-]{0,99}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
MAX_PLATFORM_USER_ID = 500  # content_records.author_platform_id
MAX_REQUESTED_BY = 200


class ErasureRefused(ValueError):
    """Bad input: one line naming the problem; nothing was read or changed."""


class UnknownPerson(LookupError):
    """No actor and no record matched: nothing was changed.

    ``str()`` names the identifier (for the operator's terminal); ``safe_message`` does not
    (for run logs and metadata, which are kept)."""

    def __init__(self, message: str, safe_message: str):
        super().__init__(message)
        self.safe_message = safe_message


@dataclass(frozen=True)
class ErasureRequest:
    """Exactly one of ``actor_id`` or (``platform``, ``platform_user_id``), and who asks why."""

    requested_by: str
    reference: str
    actor_id: str | None = None
    platform: str | None = None
    platform_user_id: str | None = None

    @property
    def identified_by(self) -> str:
        return "actor" if self.actor_id else "platform_user"

    def describe(self) -> str:
        """For the operator's terminal only (it names the identifier)."""
        if self.actor_id:
            return f"actor {self.actor_id}"
        return f"{self.platform} user {self.platform_user_id}"

    def describe_safely(self) -> str:
        """For logs: names the kind of identifier and the platform, never the identifier."""
        return "the given actor" if self.actor_id else f"the given {self.platform} user"


def check_request(
    *,
    requested_by: str | None,
    reference: str | None,
    actor_id: str | None = None,
    platform: str | None = None,
    platform_user_id: str | None = None,
) -> ErasureRequest:
    """The validated request, or ``ErasureRefused`` naming the first problem."""
    actor_id = (actor_id or "").strip() or None
    platform = (platform or "").strip() or None
    user = platform_user_id if platform_user_id not in (None, "") else None
    by_platform = platform is not None or user is not None
    if actor_id and by_platform:
        raise ErasureRefused(
            "give either --actor-id or --platform with --platform-user-id, not both"
        )
    if not actor_id and not by_platform:
        raise ErasureRefused(
            "say whom to erase: --actor-id ID, or --platform P --platform-user-id U"
        )
    if actor_id:
        try:
            actor_id = str(uuid.UUID(actor_id))
        except ValueError:
            raise ErasureRefused("--actor-id must be an actor's UUID") from None
    else:
        if platform is None:
            raise ErasureRefused("--platform-user-id needs --platform")
        if user is None:
            raise ErasureRefused("--platform needs --platform-user-id")
        if not _PLATFORM.match(platform):
            raise ErasureRefused(
                "--platform must be a platform name (lower-case letters, digits, _), e.g. bluesky"
            )
        if len(user) > MAX_PLATFORM_USER_ID or _CONTROL.search(user):
            raise ErasureRefused(
                f"--platform-user-id must be at most {MAX_PLATFORM_USER_ID} characters "
                "without control characters"
            )
    requested_by = (requested_by or "").strip()
    if not requested_by:
        raise ErasureRefused("--requested-by is required: the operator carrying out the erasure")
    if len(requested_by) > MAX_REQUESTED_BY or _CONTROL.search(requested_by):
        raise ErasureRefused(
            f"--requested-by must be at most {MAX_REQUESTED_BY} characters on one line"
        )
    reference = (reference or "").strip()
    if not reference:
        raise ErasureRefused("--reference is required: the request's case number")
    if not _REFERENCE.match(reference):
        raise ErasureRefused(
            "--reference must be a case number (letters, digits and . _ : / # -, at most "
            "100, no spaces), never the person's name: it is kept in the erasure log"
        )
    return ErasureRequest(
        requested_by=requested_by,
        reference=reference,
        actor_id=actor_id,
        platform=platform,
        platform_user_id=user,
    )


@dataclass(frozen=True)
class Person:
    """What identifies the person's rows: the actor (if any) and every pseudonym."""

    actor_id: str | None
    pseudonyms: tuple[str, ...]
    presences: int


_PRESENCE_BY_USER = text(
    "SELECT actor_id::text FROM actor_platform_presences "
    "WHERE platform = :platform AND platform_user_id = :user"
)
_ACTOR_EXISTS = text("SELECT 1 FROM actors WHERE id = CAST(:actor AS uuid)")
_ACTOR_PRESENCES = text(
    "SELECT platform, platform_user_id FROM actor_platform_presences "
    "WHERE actor_id = CAST(:actor AS uuid) ORDER BY platform, platform_user_id"
)


def resolve(conn: Connection, request: ErasureRequest, key: bytes | None = None) -> Person:
    """The actor and pseudonyms of the request (the actor may not exist: then its id alone)."""
    actor_id = request.actor_id
    pseudonyms: set[str] = set()
    if actor_id is None:
        found = conn.execute(
            _PRESENCE_BY_USER, {"platform": request.platform, "user": request.platform_user_id}
        ).scalar()
        actor_id = found
        pseudonyms.add(pseudonymize(request.platform, request.platform_user_id, key))
    presences = 0
    if actor_id is not None and conn.execute(_ACTOR_EXISTS, {"actor": actor_id}).scalar():
        for platform, user in conn.execute(_ACTOR_PRESENCES, {"actor": actor_id}):
            presences += 1
            pseudonym = pseudonymize(platform, user, key)
            if pseudonym:
                pseudonyms.add(pseudonym)
    return Person(actor_id=actor_id, pseudonyms=tuple(sorted(pseudonyms)), presences=presences)
