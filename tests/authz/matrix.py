"""The machinery of the authorization matrices (see tests/authz/__init__.py)."""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from audits.models import Membership, Organization, OrganizationAPIKey, Submission
from audits.services import submissions as lifecycle
from audits.services.api_keys import api_key_create
from tests.conftest import make_draft
from tests.factories import MembershipFactory, OrganizationFactory
from tests.signing_in import sign_in

# People sign in with a session; machines send a key. "other_lab_key" belongs to a second
# lab; "lab_read_key" is the first lab's read-only key.
PEOPLE = ("lab_member", "lab_admin", "reviewer", "regulator_admin")
KEYS = ("other_lab_key", "lab_read_key")
ACTORS = (*PEOPLE, "anonymous", *KEYS)
REGULATORS = frozenset({"reviewer", "regulator_admin"})
LAB_ACTORS = frozenset({"lab_member", "lab_admin", "other_lab_key", "lab_read_key"})
# Who counts as what for allowed-sets: a key acts as a plain member of its lab.
LAB_MEMBERS = frozenset({"lab_member", "lab_admin", "other_lab_key", "lab_read_key"})
LAB_WRITERS = LAB_MEMBERS - {"lab_read_key"}
EVERYONE_SIGNED_IN = frozenset(ACTORS) - {"anonymous"}
OWN, OTHER, NONE = "own", "other", "none"
READ_ONLY = frozenset({"lab_read_key"})
SAFE_METHODS = ("get", "head", "options")


class Expect(enum.Enum):
    OK = "2xx"
    FORBIDDEN = "403"
    NOT_FOUND = "404"
    UNAUTHENTICATED = "401/403"


@dataclass
class World:
    """Organizations, the cast, their clients, and submissions in any status on demand."""

    lab: Organization
    other_lab: Organization
    regulator: Organization
    users: dict[str, Any]
    keys: dict[str, tuple[OrganizationAPIKey, str]]

    @classmethod
    def build(cls) -> World:
        lab = OrganizationFactory(name="Example Lab", slug="example-lab")
        other_lab = OrganizationFactory(name="Second Lab", slug="second-lab")
        regulator = OrganizationFactory(
            name="Authority", slug="authority", kind=Organization.Kind.REGULATOR
        )
        admin = Membership.Role.ADMIN

        def person(organization: Organization, username: str, role: str = "member") -> Any:
            return MembershipFactory(
                user__username=username, organization=organization, role=role
            ).user

        users = {
            "lab_member": person(lab, "lab-member"),
            "lab_admin": person(lab, "lab-admin", admin),
            "other_member": person(other_lab, "other-member"),
            "reviewer": person(regulator, "reviewer"),
            "regulator_admin": person(regulator, "regulator-admin", admin),
        }
        scope = OrganizationAPIKey.Scope
        keys = {
            "other_lab_key": api_key_create(
                organization=other_lab, acting_user=None, name="other", scope=scope.READ_WRITE
            ),
            "lab_read_key": api_key_create(
                organization=lab, acting_user=None, name="dashboard", scope=scope.READ
            ),
            "regulator_key": api_key_create(
                organization=regulator, acting_user=None, name="tooling", scope=scope.READ
            ),
        }
        return cls(lab=lab, other_lab=other_lab, regulator=regulator, users=users, keys=keys)

    # --- who ---------------------------------------------------------------------------

    def client(self, actor: str) -> APIClient:
        client = APIClient()
        if actor in self.keys:
            client.credentials(HTTP_AUTHORIZATION=f"Api-Key {self.keys[actor][1]}")
        elif actor != "anonymous":
            sign_in(client, self.users[actor])
        return client

    def organization_of(self, actor: str) -> Organization | None:
        if actor in ("lab_member", "lab_admin", "lab_read_key"):
            return self.lab
        if actor == "other_lab_key":
            return self.other_lab
        if actor in REGULATORS:
            return self.regulator
        return None

    def filer(self, organization: Organization) -> Any:
        return self.users["lab_member" if organization == self.lab else "other_member"]

    # --- what --------------------------------------------------------------------------

    def submission(self, organization: Organization, status: str) -> Submission:
        """A submission of `organization` walked to `status` (assigned to the reviewer)."""
        filer, reviewer = self.filer(organization), self.users["reviewer"]
        submission = make_draft(filer)
        steps: dict[str, list[Callable[[Submission], Submission]]] = {
            "draft": [],
            "submitted": [
                lambda s: lifecycle.submission_submit(
                    submission=s, acting_user=filer, accuracy_declared=True
                )
            ],
        }
        steps["under_review"] = [
            *steps["submitted"],
            lambda s: lifecycle.submission_start_review(submission=s, acting_user=reviewer),
        ]
        steps["changes_requested"] = [
            *steps["under_review"],
            lambda s: lifecycle.submission_request_changes(
                submission=s, acting_user=reviewer, rationale="More diagnostics, please."
            ),
        ]
        steps["accepted"] = [
            *steps["under_review"],
            lambda s: lifecycle.submission_accept(
                submission=s, acting_user=reviewer, rationale="Fine."
            ),
        ]
        for step in steps[status]:
            submission = step(submission)
        return submission

    def target_organization(self, actor: str, ownership: str) -> Organization:
        """Whose object an actor acts on: its own organization's, or another tenant's."""
        own = self.organization_of(actor)
        if own is None or own == self.regulator:
            return self.lab
        if ownership == OWN:
            return own
        return self.other_lab if own == self.lab else self.lab

    def target_submission(self, actor: str, ownership: str, status: str) -> Submission:
        """For regulators, another tenant's object is a draft: they never see drafts."""
        if actor in REGULATORS and ownership == OTHER:
            return self.submission(self.lab, "draft")
        return self.submission(self.target_organization(actor, ownership), status)


# --- what each route expects ---------------------------------------------------------------

Target = Callable[[World, str, str], dict[str, Any]]
Body = Callable[[World, dict[str, Any]], tuple[dict[str, Any] | None, str | None]]


def no_body(world: World, kwargs: dict[str, Any]) -> tuple[None, None]:
    return None, None


@dataclass(frozen=True)
class Entry:
    """One (route, method) of a matrix.

    `target` builds the URL kwargs for an actor and an ownership (None: a route with no
    object, e.g. a list); `allowed` are the actors that succeed on their own objects;
    `public` routes succeed for everyone, anonymous included.
    """

    route: str
    method: str
    allowed: frozenset[str] = EVERYONE_SIGNED_IN
    target: Target | None = None
    body: Body = no_body
    public: bool = False
    # False for objects no tenant owns (a rubric): one case per actor, no "other".
    tenanted: bool = True
    note: str = ""

    @property
    def key(self) -> tuple[str, str]:
        return (self.route, self.method.lower())

    def expected(self, actor: str, ownership: str) -> Expect:
        if self.public:
            return Expect.OK
        if actor == "anonymous":
            return Expect.UNAUTHENTICATED
        if actor in READ_ONLY and self.method.lower() not in SAFE_METHODS:
            # A read-only key is refused every write before any lookup: nothing leaks.
            return Expect.FORBIDDEN
        if ownership == OTHER:
            return Expect.NOT_FOUND
        return Expect.OK if actor in self.allowed else Expect.FORBIDDEN


@dataclass(frozen=True)
class Case:
    entry: Entry
    actor: str
    ownership: str

    @property
    def id(self) -> str:
        return f"{self.entry.method.upper()} {self.entry.route} [{self.actor}, {self.ownership}]"


def cases(entries: Iterable[Entry], actors: Iterable[str] = ACTORS) -> Iterator[Case]:
    """Every actor × ownership of every entry (anonymous has no organization: one case)."""
    actors = tuple(actors)
    for entry in entries:
        for actor in actors:
            if entry.target is None or not entry.tenanted:
                yield Case(entry, actor, NONE)
            elif actor == "anonymous":
                yield Case(entry, actor, OWN)
            else:
                yield Case(entry, actor, OWN)
                yield Case(entry, actor, OTHER)


def check_response(
    response: Any,
    expect: Expect,
    *,
    unauthenticated: tuple[int, ...] = (401, 403),
    error_shape: bool = True,
) -> None:
    """Assert the status class, and for refusals the API's one error shape."""
    code = response.status_code
    detail = getattr(response, "content", b"")[:500]
    if expect is Expect.OK:
        assert 200 <= code < 300, f"expected 2xx, got {code}: {detail!r}"
        return
    wanted = {
        Expect.FORBIDDEN: (403,),
        Expect.NOT_FOUND: (404,),
        Expect.UNAUTHENTICATED: unauthenticated,
    }[expect]
    assert code in wanted, f"expected {wanted}, got {code}: {detail!r}"
    if error_shape:
        error = response.json()["error"]
        assert error["code"] and error["message"]


# --- which routes exist ---------------------------------------------------------------------

HTTP_METHODS = ("get", "post", "put", "patch", "delete")


@dataclass(frozen=True)
class Route:
    name: str  # namespaced, "api-v1:submission-list"
    pattern: str
    methods: tuple[str, ...] = field(default=())

    @property
    def keys(self) -> list[tuple[str, str]]:
        return [(self.name, method) for method in self.methods] or [(self.name, "*")]


def _methods_of(callback: Any) -> tuple[str, ...]:
    view_class = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
    if view_class is None:
        return ()
    return tuple(m for m in HTTP_METHODS if hasattr(view_class, m))


def urlconf_routes(prefix: str, urlconf: str | None = None) -> list[Route]:
    """Every named route whose pattern starts with `prefix` (e.g. "api/v1/"), with methods."""
    found: list[Route] = []

    def walk(patterns: Iterable[Any], path: str, namespace: str) -> None:
        for pattern in patterns:
            here = path + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                walk(pattern.url_patterns, here, inner)
            elif isinstance(pattern, URLPattern) and here.startswith(prefix):
                name = f"{namespace}{pattern.name}" if pattern.name else here
                found.append(Route(name, here, _methods_of(pattern.callback)))

    walk(get_resolver(urlconf).url_patterns, "", "")
    return found


def assert_every_route_covered(
    routes: Iterable[Route], entries: Iterable[Entry], *, exempt: Iterable[str] = ()
) -> None:
    """Fail on any (route, method) without an entry, and on entries for no route."""
    exempt = set(exempt)
    declared = {entry.key for entry in entries}
    existing = {key for route in routes if route.name not in exempt for key in route.keys}
    missing = sorted(existing - declared)
    stale = sorted(declared - existing)
    assert not missing, f"routes without a matrix entry: {missing}"
    assert not stale, f"matrix entries for no route: {stale}"


def state_fingerprint() -> tuple[int, ...]:
    """What any change leaves behind: every state change writes an audit event, and every
    piece of background work an outbox message; refused requests must leave neither."""
    from audits.models import AuditEvent, OutboxMessage, Submission

    return (
        AuditEvent.objects.count(),
        OutboxMessage.objects.count(),
        Submission.objects.count(),
        hash(tuple(Submission.objects.order_by("pk").values_list("status", "revision"))),
    )


def own_or_other_organization(world: World, actor: str, ownership: str) -> Organization:
    """The actor's own organization (a regulator's too), or another tenant's."""
    own = world.organization_of(actor)
    if ownership == OWN and own is not None:
        return own
    return world.target_organization(actor, OTHER if ownership == OTHER else ownership)


def webhook_endpoint_of(world: World, actor: str, ownership: str) -> dict[str, Any]:
    """An endpoint row of the actor's organization or another's. Its address is loopback,
    which deliveries refuse before connecting: a matrix test never sends anything."""
    from audits.models import WebhookEndpoint

    organization = own_or_other_organization(world, actor, ownership)
    endpoint = WebhookEndpoint.objects.create(
        organization=organization,
        url=f"https://127.0.0.1:9/hook-{WebhookEndpoint.objects.count()}",
        event_types=["report.ready"],
        secret="whsec_" + "A" * 44,
    )
    return {"pk": endpoint.pk}
