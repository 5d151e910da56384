"""A playbook on the OpenAI organisation's admin plane: sprayed logins, then keys minted.

The attacker sprays passwords at the organisation's members from one address, gets into one
member's dashboard session, and keeps access by creating an API key and a service account and
inviting an outside owner, all from the network that sprayed.
"""

from __future__ import annotations

from stormwatch.simulate import channels
from stormwatch.simulate.attack import MINUTE, Context, cidr
from stormwatch.simulate.identifiers import ALNUM, token
from stormwatch.simulate.model import PlaybookLabel
from stormwatch.simulate.plan import from_us
from stormwatch.simulate.routine import openai_actor, openai_user_id

BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
FAILED = {"error_code": "invalid_credentials", "error_message": "Wrong password."}
SPRAYED = 14


def openai_session_takeover(ctx: Context) -> PlaybookLabel:
    """Password spray, one successful login, then an API key, a service account, an invite."""
    start = ctx.plan.at(0.70)
    network = ctx.networks(1)
    ip = ctx.hosts(network, 1)[0]
    people = ctx.world.people
    victim = people[-1]
    for n, at in enumerate(ctx.times(start, 6 * MINUTE, SPRAYED)):
        person = people[n % len(people)]
        actor = openai_actor(person, ip, BROWSER)
        channels.openai_audit_call(ctx.emit, at, ctx.rng, "login.failed", actor, FAILED)
    actor = openai_actor(victim, ip, BROWSER)
    login = start + 8 * MINUTE
    channels.openai_audit_call(ctx.emit, login, ctx.rng, "login.succeeded", actor, {})
    key_id = f"key_{token(ctx.rng, ALNUM, 16)}"
    account_id = f"svc_acct_{token(ctx.rng, ALNUM, 16)}"
    invite_id = f"invite-{token(ctx.rng, ALNUM, 16)}"
    changes = (
        ("api_key.created", {"id": key_id, "data": {"scopes": ["/v1/*"]}}),
        ("service_account.created", {"id": account_id, "data": {"role": "owner"}}),
        ("invite.sent", {"id": invite_id, "data": {"email": "ops@fabrikam-mail.example"}}),
    )
    for n, (kind, payload) in enumerate(changes, 1):
        at = login + n * 2 * MINUTE
        channels.openai_audit_call(ctx.emit, at, ctx.rng, kind, actor, payload)
    return PlaybookLabel(
        "openai-session-takeover",
        "attack",
        "Failed logins sprayed at the organisation's members from one address, one member's "
        "session taken over from it, then an API key, a service account and an invite created.",
        from_us(start),
        from_us(login + 8 * MINUTE),
        {
            "principals": (openai_user_id(victim),),
            "ips": (ip,),
            "networks": (cidr(network[0]),),
        },
    )
