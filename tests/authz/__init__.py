"""Authorization matrices: every route × every role × own/other tenant's objects.

Reusable for any set of URLs (the REST API, the portal):

    from tests.authz.matrix import ACTORS, Entry, World, assert_every_route_covered, ...

1. Build a `World` in a test (`World.build()` inside a `db` test): three organizations
   (lab, other_lab, regulator), the people of the cast, API keys, and helpers that put a
   submission of any organization into any status.
2. Describe each route with `Entry` objects: the URL name, the HTTP method, the state the
   target object must be in for the allowed roles to succeed, who is allowed, and how to
   build the URL kwargs and body. `expected()` then derives the outcome for every actor and
   ownership: allowed → 2xx, another tenant's object → 404, own object with too small a role
   → 403, anonymous → 401/403 (or a login redirect, for the portal: pass
   `unauthenticated=(302,)` to `check_response`).
3. Parametrize a test over `cases(entries)` and call `check_response`.
4. Call `assert_every_route_covered(urlconf_routes(...), entries, exempt=...)` so a new
   route without an entry fails.

See tests/api/test_authorization_matrix.py for the API's matrix.
"""
