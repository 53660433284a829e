"""Which support plan can be bought for which server: basic, managed (full management), global.

Sources, line by line (the three "Cosa comprende ..." articles in ``docs/server-dedicati/``):

- basic: "L’”assistenza basic” si applica a: server a noleggio, server in colocation, VPS".
  No operating system is named, so basic fits any.
- managed: "L’”assistenza managed” è applicabile solo a server a noleggio e con sistema
  operativo Linux; non è applicabile a server in colocation."
- global: "L’”assistenza global” è applicabile a: server a noleggio; VPS. Di norma, NON è
  disponibile per server in colocation. L’assistenza “global” viene fornita solo per server
  con sistema operativo Linux."

Readings where the seed leaves room:

- Managed on a VPS: the article says "solo a server a noleggio", and the global article lists
  "server a noleggio" and "VPS" as two different things, so a VPS is not a rented server here:
  managed is refused for a VPS, and the reason points to global (or basic).
- Global on colocation: "di norma" means it is not sold, but an exception may be agreed. The
  answer is *no*, with ``exception_possible`` set (for a Linux server) and a reason telling the
  customer to ask the sales office.
- "Assistenza estesa" is named in the extra-contractual article but described nowhere, so it
  is not one of the plans handled here.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import choose

PLANS: dict[str, str] = {
    "basic": "assistenza basic",
    "managed": "assistenza managed (full management)",
    "global": "assistenza global",
}
SERVER_TYPES: dict[str, str] = {
    "noleggio": "server dedicato a noleggio",
    "colocation": "server in colocation",
    "vps": "VPS",
}
OPERATING_SYSTEMS: dict[str, str] = {
    "linux": "Linux",
    "windows": "Windows",
    "altro": "un altro sistema operativo",
}


@dataclass(frozen=True)
class PlanEligibility:
    """Yes or no, with the Italian sentence that explains it."""

    plan: str
    server_type: str
    operating_system: str
    eligible: bool
    reason: str
    exception_possible: bool = False

    def to_dict(self) -> dict:
        return {
            "piano": self.plan,
            "tipo_server": self.server_type,
            "sistema_operativo": self.operating_system,
            "applicabile": self.eligible,
            "motivo": self.reason,
            "eccezione_possibile": self.exception_possible,
        }


def check_plan(plan: str, server_type: str, operating_system: str) -> PlanEligibility:
    """Can ``plan`` be applied to a ``server_type`` server running ``operating_system``?

    :param plan: one of :data:`PLANS`; :param server_type: one of :data:`SERVER_TYPES`;
    :param operating_system: one of :data:`OPERATING_SYSTEMS`.
    :raise RuleInputError: for a value outside those lists, naming the accepted ones.
    """
    plan = choose("piano", "il piano di assistenza", plan, PLANS)
    server_type = choose("tipo_server", "il tipo di server", server_type, SERVER_TYPES)
    operating_system = choose("sistema_operativo", "il sistema operativo", operating_system, OPERATING_SYSTEMS)
    linux = operating_system == "linux"
    server = SERVER_TYPES[server_type]
    system = OPERATING_SYSTEMS[operating_system]

    def answer(eligible: bool, reason: str, exception_possible: bool = False) -> PlanEligibility:
        return PlanEligibility(plan, server_type, operating_system, eligible, reason, exception_possible)

    if plan == "basic":
        return answer(True, f"L’assistenza basic si applica ai server a noleggio, ai server in colocation e ai VPS, con qualsiasi sistema operativo: va bene per un {server} con {system}.")

    if plan == "managed":
        if server_type == "colocation":
            return answer(False, "L’assistenza managed non è applicabile ai server in colocation: è disponibile solo per server a noleggio con sistema operativo Linux. Per un server in colocation è disponibile l’assistenza basic.")
        if server_type == "vps":
            alternative = "l’assistenza global o l’assistenza basic" if linux else "l’assistenza basic"
            return answer(False, f"L’assistenza managed è applicabile solo a server a noleggio con sistema operativo Linux, non ai VPS. Per un VPS con {system} è disponibile {alternative}.")
        if not linux:
            return answer(False, f"L’assistenza managed è applicabile solo a server con sistema operativo Linux, non con {system}. Per questo server è disponibile l’assistenza basic.")
        return answer(True, "L’assistenza managed è applicabile: il server è a noleggio e ha sistema operativo Linux.")

    # global
    if server_type == "colocation":
        if not linux:
            return answer(False, f"L’assistenza global viene fornita solo per server con sistema operativo Linux, non con {system}, e di norma non è disponibile per server in colocation. Per questo server è disponibile l’assistenza basic.")
        return answer(False, "Di norma l’assistenza global non è disponibile per server in colocation: per valutare un’eccezione è possibile rivolgersi all’ufficio commerciale (Informazioni Commerciali ed amministrative). È comunque disponibile l’assistenza basic.", exception_possible=True)
    if not linux:
        return answer(False, f"L’assistenza global viene fornita solo per server con sistema operativo Linux, non con {system}. Per questo server è disponibile l’assistenza basic.")
    where = "ai server a noleggio" if server_type == "noleggio" else "ai VPS"
    return answer(True, f"L’assistenza global è applicabile {where} con sistema operativo Linux.")


def eligible_plans(server_type: str, operating_system: str) -> list[str]:
    """The plans that can be bought for this server, in :data:`PLANS` order (basic always is)."""
    return [plan for plan in PLANS if check_plan(plan, server_type, operating_system).eligible]
