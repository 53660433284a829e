"""Which support plan applies to which server, from the three "Cosa comprende ..." seed articles."""

from __future__ import annotations

import itertools
import json

import pytest

from intake.rules import OPERATING_SYSTEMS, PLANS, SERVER_TYPES, RuleInputError, check_plan, eligible_plans

# Every plan x server type x operating system, each row with words its reason must contain.
COMBINATIONS = [
    # basic: "L’”assistenza basic” si applica a: server a noleggio / server in colocation / VPS"
    # (no operating system is named)
    ("basic", "noleggio", "linux", True, "va bene per un server dedicato a noleggio con Linux"),
    ("basic", "noleggio", "windows", True, "va bene per un server dedicato a noleggio con Windows"),
    ("basic", "noleggio", "altro", True, "con un altro sistema operativo"),
    ("basic", "colocation", "linux", True, "server in colocation con Linux"),
    ("basic", "colocation", "windows", True, "server in colocation con Windows"),
    ("basic", "colocation", "altro", True, "server in colocation con un altro"),
    ("basic", "vps", "linux", True, "VPS con Linux"),
    ("basic", "vps", "windows", True, "VPS con Windows"),
    ("basic", "vps", "altro", True, "VPS con un altro"),
    # managed: "L’”assistenza managed” è applicabile solo a server a noleggio e con sistema operativo
    # Linux; non è applicabile a server in colocation."
    ("managed", "noleggio", "linux", True, "il server è a noleggio e ha sistema operativo Linux"),
    ("managed", "noleggio", "windows", False, "solo a server con sistema operativo Linux, non con Windows"),
    ("managed", "noleggio", "altro", False, "solo a server con sistema operativo Linux, non con un altro sistema operativo"),
    ("managed", "colocation", "linux", False, "non è applicabile ai server in colocation"),
    ("managed", "colocation", "windows", False, "non è applicabile ai server in colocation"),
    ("managed", "colocation", "altro", False, "non è applicabile ai server in colocation"),
    # "solo a server a noleggio": a VPS is not one (the global article lists them apart)
    ("managed", "vps", "linux", False, "non ai VPS. Per un VPS con Linux è disponibile l’assistenza global o l’assistenza basic"),
    ("managed", "vps", "windows", False, "non ai VPS. Per un VPS con Windows è disponibile l’assistenza basic"),
    ("managed", "vps", "altro", False, "non ai VPS"),
    # global: "L’”assistenza global” è applicabile a: server a noleggio; VPS" /
    # "Di norma, NON è disponibile per server in colocati0n." /
    # "L’assistenza “global” viene fornita solo per server con sistema operativo Linux."
    ("global", "noleggio", "linux", True, "applicabile ai server a noleggio con sistema operativo Linux"),
    ("global", "noleggio", "windows", False, "solo per server con sistema operativo Linux, non con Windows"),
    ("global", "noleggio", "altro", False, "solo per server con sistema operativo Linux"),
    ("global", "colocation", "linux", False, "Di norma l’assistenza global non è disponibile per server in colocation"),
    ("global", "colocation", "windows", False, "solo per server con sistema operativo Linux, non con Windows, e di norma non è disponibile per server in colocation"),
    ("global", "colocation", "altro", False, "di norma non è disponibile per server in colocation"),
    ("global", "vps", "linux", True, "applicabile ai VPS con sistema operativo Linux"),
    ("global", "vps", "windows", False, "solo per server con sistema operativo Linux, non con Windows"),
    ("global", "vps", "altro", False, "solo per server con sistema operativo Linux"),
]


def test_the_table_covers_every_combination():
    assert sorted(row[:3] for row in COMBINATIONS) == sorted(itertools.product(PLANS, SERVER_TYPES, OPERATING_SYSTEMS))


@pytest.mark.parametrize(("plan", "server_type", "os", "eligible", "words"), COMBINATIONS)
def test_plan_eligibility(plan, server_type, os, eligible, words):
    answer = check_plan(plan, server_type, os)
    assert answer.eligible is eligible
    assert words in answer.reason
    if not eligible:
        # a refusal always says what the customer can have instead (or whom to ask)
        assert "assistenza basic" in answer.reason


def test_global_on_colocation_is_an_exception_to_ask_sales_for_only_with_linux():
    # "Di norma, NON è disponibile": normally not, so an exception may be agreed.
    linux = check_plan("global", "colocation", "linux")
    assert (linux.eligible, linux.exception_possible) == (False, True)
    assert "ufficio commerciale" in linux.reason
    assert not check_plan("global", "colocation", "windows").exception_possible
    assert not check_plan("managed", "colocation", "linux").exception_possible  # "non è applicabile"


ELIGIBLE_PLANS = [
    ("noleggio", "linux", ["basic", "managed", "global"]),
    ("noleggio", "windows", ["basic"]),
    ("vps", "linux", ["basic", "global"]),
    ("vps", "altro", ["basic"]),
    ("colocation", "linux", ["basic"]),
]


@pytest.mark.parametrize(("server_type", "os", "plans"), ELIGIBLE_PLANS)
def test_plans_a_server_can_have(server_type, os, plans):
    assert eligible_plans(server_type, os) == plans


BAD = [
    # plan, server type, os, field, accepted list in the message
    ("estesa", "noleggio", "linux", "piano", "basic, managed, global"),
    ("full management", "noleggio", "linux", "piano", "basic, managed, global"),
    ("basic", "cloud", "linux", "tipo_server", "noleggio, colocation, vps"),
    ("basic", "vps", "Linux", "sistema_operativo", "linux, windows, altro"),
    ("basic", "vps", None, "sistema_operativo", "linux, windows, altro"),
]


@pytest.mark.parametrize(("plan", "server_type", "os", "field", "accepted"), BAD)
def test_unknown_values_are_refused_listing_the_accepted_ones(plan, server_type, os, field, accepted):
    with pytest.raises(RuleInputError) as caught:
        check_plan(plan, server_type, os)
    assert caught.value.field == field
    assert accepted in caught.value.message


def test_json_ready_data():
    data = check_plan("managed", "vps", "linux").to_dict()
    assert json.loads(json.dumps(data)) == data
    assert (data["piano"], data["applicabile"], data["eccezione_possibile"]) == ("managed", False, False)
