import asyncio
import json
import math

import numpy as np
import pytest

from ponder.backends import load_backend
from ponder.errors import ConfigError, DataError
from ponder.eval.pools import load_pools
from ponder.eval.runner import run_eval
from ponder.eval.store import SampleStore
from ponder.eval.synthetic import synthetic_items, two_tier_backends
from ponder.routing import FEATURES, default_router, features, load_router, rule_plan
from ponder.routing.calibrate import lam_for_budget
from ponder.routing.catalogue import candidate_plans
from ponder.routing.fitting import choose_l2, fit_logistic
from ponder.routing.router import Router
from ponder.routing.router_file import router_from_dict
from ponder.routing.training import train_router
from ponder.strategies import make_strategy
from ponder.strategies.auto import AutoOptions, AutoStrategy
from ponder.types import Message, Question

ITEMS = synthetic_items(per_level=4)


@pytest.fixture(scope="module")
def pools(tmp_path_factory):
    small, large = two_tier_backends(ITEMS)
    store = SampleStore(tmp_path_factory.mktemp("run"))
    for backend in (small, large):
        asyncio.run(run_eval(ITEMS, backend, ["sample:n=8"], store, model=backend.name))
    return load_pools(store.records())


@pytest.fixture(scope="module")
def trained(pools):
    return train_router(pools, reps=4)


def test_features_are_finite_and_named():
    for q in ("What is 2 + 3?", "", "Ana has 12 apples. She loses 3. How many are left, twice?"):
        x = features(q)
        assert len(x) == len(FEATURES) and all(math.isfinite(v) for v in x)
    assert features("a, b, c, d")[FEATURES.index("list_items")] == 4


def test_fit_logistic_learns_a_separable_signal():
    x = np.array([[-2.0], [-1.0], [1.0], [2.0]])
    coef, intercept = fit_logistic(x, np.array([0.02, 0.02, 0.98, 0.98]), l2=0.1)
    assert coef[0] > 1 and abs(intercept) < 0.5


def test_choose_l2_follows_the_signal_not_the_noise():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(80, 6))
    signal = 1 / (1 + np.exp(-3 * x[:, :1]))  # one plan, driven by feature 0 only
    strong, losses = choose_l2(x, np.clip(signal, 0.02, 0.98))
    noise = np.clip(rng.uniform(size=(80, 1)), 0.02, 0.98)  # labels unrelated to x
    weak, _ = choose_l2(x, noise)
    assert strong < weak and weak >= 8.0
    assert set(losses) >= {0.25, 32.0} and all(np.isfinite(v) for v in losses.values())
    with pytest.raises(DataError, match="at least 8 items"):
        choose_l2(x[:5], noise[:5])


def test_train_router_records_the_ridge_it_chose(pools):
    chosen = train_router(pools, reps=2, l2=None)
    assert chosen.meta["l2"] in (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0)
    assert train_router(pools, reps=2).meta["l2"] == 2.0


def test_trained_router_routes_by_difficulty(trained):
    assert [p.plan.name for p in trained.plans] == [p.name for p in candidate_plans(2, [8, 8])]
    assert len(candidate_plans(2)) > len(trained.plans)  # plans needing 16 samples left out
    assert trained.plans[0].cost == pytest.approx(1.0)
    easy = next(i for i in ITEMS if i.difficulty == "1").question
    hard = next(i for i in ITEMS if i.difficulty == "3").question
    cheap = trained.with_budget(1.0)
    assert cheap.choose(easy, 2).name == "cot@0"
    rich = trained.with_budget(20.0)
    assert rich.choose(hard, 2).max_tier == 1
    assert all(rich.choose(q.question, 1).max_tier == 0 for q in ITEMS)  # one tier only


def test_calibration_is_monotone_and_hits_the_budget(trained, pools):
    plain = train_router(pools, reps=4, support=False)  # no question gets the safe plan
    assert plain.calibration[-1]["cost"] == pytest.approx(1.0)  # cot@0 for every question
    table = trained.calibration  # a question new to its fold's router may get the safe plan
    costs = [row["cost"] for row in table]
    assert costs[0] >= costs[-1] >= 1.0
    for budget in (1.5, 3.0, 6.0):
        lam = lam_for_budget(table, budget)
        row = next(r for r in table if r["lam"] == lam)
        assert row["cost"] <= budget + 1e-9
    assert lam_for_budget(table, 0.01) == max(r["lam"] for r in table)
    with pytest.raises(ConfigError, match="budget must be a positive"):
        lam_for_budget(table, 0)


def test_router_file_round_trip(trained, tmp_path):
    path = tmp_path / "r.json"
    trained.save(path)
    loaded = load_router(path)
    assert loaded.to_dict() == json.loads(path.read_text())
    assert all(loaded.choose(i.question, 2) == trained.choose(i.question, 2) for i in ITEMS)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.update(format="other"), "not a ponder router file"),
        (lambda d: d.update(version=99), "version 99 is not supported"),
        (lambda d: d.update(features=["x"]), "other features"),
        (lambda d: d.update(mean=[1.0]), "'mean' must be a list of"),
        (lambda d: d.update(plans=[]), "'plans' must be a non-empty list"),
        (lambda d: d["plans"][0].update(coef=["a"] * len(d["plans"][0]["coef"])), "numbers only"),
        (
            lambda d: d["plans"][0].update(stages=[{"tier": 0, "greedy": False, "n": 0}]),
            "must draw something",
        ),
        (lambda d: d["plans"][0].update(intercept=None), "numbers only"),
        (lambda d: d.update(calibration=3), "'calibration' must be a list"),
        (lambda d: d.update(calibration=[{"x": 1}]), "'calibration' rows need a 'lam'"),
        (lambda d: d.update(calibration=[{"lam": 0, "cost": "1"}]), "'calibration' rows"),
        (lambda d: d.update(lam="x"), "'lam' must hold numbers only"),
        (lambda d: d.update(lam=[1]), "'lam' must hold numbers only"),
        (lambda d: d.update(lam=float("nan")), "'lam' holds NaN"),
        (lambda d: d.update(meta="ab"), "'meta' must be an object"),
        (lambda d: d.update(tiers=5), "'tiers' must be a list of backend names"),
        (lambda d: d.update(tiers="abc"), "'tiers' must be a list of backend names"),
        (lambda d: d["plans"][0]["stages"][0].update(tier=1e999), "must be a whole number"),
        (lambda d: d["plans"][0]["stages"][0].update(tier=1.7), "'tier' must be a whole"),
        (lambda d: d["plans"][0]["stages"][0].update(greedy="false"), "'greedy' must be true"),
    ],
)
def test_bad_router_files_get_clear_errors(trained, tmp_path, mutate, message):
    data = trained.to_dict()
    mutate(data)
    with pytest.raises(DataError, match=message):
        router_from_dict(json.loads(json.dumps(data)), "r.json")


def test_unreadable_router_files(tmp_path):
    with pytest.raises(DataError, match="router file not found"):
        load_router(tmp_path / "none.json")
    (tmp_path / "bad.json").write_text("{oops")
    with pytest.raises(DataError, match="not valid JSON"):
        load_router(tmp_path / "bad.json")


def test_rule_plans_without_a_router():
    assert rule_plan("What is 2 + 3?", 2).name == "cot@0"
    assert rule_plan("Ana has 3 pens. She gets 4 more, then twice as many. How many?", 2).name == (
        "g+2@0 > cot@1"
    )
    assert (
        rule_plan("Ana has 3 pens. She gets 4 more, then twice as many. How many?", 1).max_tier == 0
    )


def test_shipped_router_spends_more_where_its_data_says_it_pays():
    shipped = default_router()
    if shipped is None:
        pytest.skip("no shipped router file")
    easy = "What is 2 + 3?"  # arith level 1: the stored samples are mostly right
    # count: greedy right on 29% of the stored items, 16 votes on 68%
    hard = (
        "How many times does the word 'bird' appear in this list: "
        "duck, goat, bird, bird, fish, bird?"
    )
    # what the router expects to spend on each question (x direct): a plan's cost model
    # knows a one-line sum's samples are short, so compare forecasts, not mean costs
    (cheap, low), (costly, high) = (shipped.route(q, 2) for q in (easy, hard))
    assert high["forecast"]["cost"] > 3 * low["forecast"]["cost"], (cheap.name, costly.name)
    assert costly.max_samples > 1
    # one tier (SmolLM2 alone): its data says 8 samples picked by calc lift arith (and
    # nothing lifts count), so the easy question may get the costlier plan; never one
    # that needs a second tier
    assert shipped.choose(hard, 1).max_tier == 0 and shipped.choose(easy, 1).max_tier == 0


def test_auto_strategy_cascades_over_tiers(trained, tmp_path):
    small, large = two_tier_backends(ITEMS)
    path = tmp_path / "r.json"
    trained.with_budget(20.0).save(path)
    auto = AutoStrategy(AutoOptions(router=str(path)), tiers=[small, large])  # first: backend
    hard = next(i for i in ITEMS if i.difficulty == "3")
    result = asyncio.run(auto.solve(Question((Message("user", hard.question),), "number"), small))
    assert result.answer == hard.answer and result.model == "large"
    assert result.trace[0]["step"] == "route" and result.cost.flops > 0
    assert result.trace[0]["tiers"] == [small.name, large.name]
    assert result.usage.samples == len(result.samples)
    forced = AutoStrategy(AutoOptions(plan="cot@0"), tiers=[large])  # tiers after the backend
    easy = ITEMS[0]
    result = asyncio.run(forced.solve(easy.question, small))
    assert result.answer == easy.answer and result.model == "small" and result.usage.samples == 1
    assert result.trace[0]["tiers"] == [small.name, large.name]


def test_auto_tier_specs_are_resolved_when_built(tmp_path):
    script = tmp_path / "big.json"
    script.write_text('{"What is 2 + 2?": ["Answer: 4"]}', encoding="utf-8")
    auto = make_strategy(f"auto:tiers=scripted:{script},plan=cot@1")
    small, _ = two_tier_backends(ITEMS)
    result = asyncio.run(auto.solve("What is 2 + 2?", small))
    assert result.answer == "4" and result.model == "big"


def test_auto_strategy_options_are_checked(tmp_path):
    with pytest.raises(ConfigError, match="bad options for strategy 'auto'"):
        make_strategy("auto:bogus=1")
    with pytest.raises(ConfigError, match="cannot read plan stage"):
        make_strategy("auto:plan=what")
    with pytest.raises(DataError, match="router file not found"):
        make_strategy(f"auto:router={tmp_path / 'none.json'}")


def test_auto_without_router_or_tiers_stays_on_the_given_backend():
    small, _ = two_tier_backends(ITEMS)
    result = asyncio.run(make_strategy("auto").solve(ITEMS[-1].question, small))
    assert result.model == "small" and result.strategy == "auto"


def test_budget_in_tokens_and_cli_train(pools, tmp_path):
    tokens = train_router(pools, reps=2, unit="tokens", budget=2.0)
    assert tokens.meta["cost_unit"] == "cot@0 tokens"
    assert tokens.plans[0].cost == pytest.approx(1.0)
    with pytest.raises(ConfigError, match="cost unit"):
        train_router(pools, reps=1, unit="euros")
    with pytest.raises(DataError, match="at least 4 finished items"):
        train_router(pools, item_ids=list(pools.items)[:2])


def test_router_cli_train_and_show(tmp_path):
    from click.testing import CliRunner

    from ponder.cli.main import cli

    small, large = two_tier_backends(ITEMS)
    store = SampleStore(tmp_path / "run")
    for backend in (small, large):
        asyncio.run(run_eval(ITEMS, backend, ["sample:n=4"], store, model=backend.name))
    out = tmp_path / "r.json"
    result = CliRunner().invoke(
        cli, ["router", "train", str(tmp_path / "run"), "--out", str(out), "--reps", "2"]
    )
    assert result.exit_code == 0, result.output
    assert "budget calibration" in result.output and load_router(out).plans
    shown = CliRunner().invoke(cli, ["router", "show", str(out), "-q", ITEMS[0].question])
    assert shown.exit_code == 0 and "cot@0" in shown.output
    (tmp_path / "bad.json").write_text("[]")
    bad = CliRunner().invoke(cli, ["router", "show", str(tmp_path / "bad.json")])
    assert bad.exit_code != 0 and "not a ponder router file" in bad.output
    args = ["router", "train", str(tmp_path / "run"), "--out", str(out), "--reps", "2"]
    cv = CliRunner().invoke(cli, [*args, "--l2", "cv", "--terms", "quadratic"])
    assert cv.exit_code == 0 and "quadratic terms, l2 " in cv.output, cv.output
    assert load_router(out).meta["l2"] > 0 and load_router(out).terms == "quadratic"
    linear = CliRunner().invoke(cli, args)  # linear terms by default
    assert linear.exit_code == 0 and "linear terms" in linear.output, linear.output
    assert load_router(out).terms == "linear" and "cross-fitted" in linear.output
    cubic = CliRunner().invoke(cli, [*args, "--terms", "cubic"])
    assert cubic.exit_code == 2 and "--terms" in cubic.output and "Traceback" not in cubic.output
    wrong = CliRunner().invoke(cli, [*args, "--l2", "-1"])
    assert wrong.exit_code == 2 and "--l2" in wrong.output and "Traceback" not in wrong.output


def test_tier_specs_split_on_a_separator_the_shell_leaves_alone():
    from ponder.strategies.auto import tier_specs

    both = ["embedded:smollm2-135m", "openai:http://h:8000/v1#m?timeout=5"]
    assert tier_specs("+".join(both)) == both == tier_specs("|".join(both))
    assert tier_specs(None) == [] == tier_specs(" ")


def test_auto_runs_a_calc_plan_live_and_the_verifier_overrules_the_vote(tmp_path):
    question = "Ana has 16 books. Then they get 2 more books. How many books now?"
    outputs = ["16 + 2 = 19\nAnswer: 19", "16 + 2 = 19\nAnswer: 19", "16 + 2 = 18\nAnswer: 18"]
    script = tmp_path / "s.json"
    script.write_text(json.dumps({question: outputs}), encoding="utf-8")
    backend = load_backend(f"scripted:{script}")
    voted = asyncio.run(make_strategy("auto:plan=3@0").solve(question, backend))
    picked = asyncio.run(make_strategy("auto:plan=3@0 calc").solve(question, backend))
    assert (voted.answer, picked.answer) == ("19", "18")
    assert picked.trace[-1]["pick"] == "calc" and picked.trace[-1]["calc_score"] == 1.0
    for tiers in (1, 2):  # the router may choose such plans
        assert any(p.stages[-1].pick == "calc" for p in candidate_plans(tiers))


NAMES = ("amber", "birch", "cedar")


def _bump_items():
    """Questions that differ only in length; the small model is right on middle lengths
    (level 1) and wrong on short and long ones (level 3)."""
    from ponder.eval.datasets import Item

    items = []
    for t in range(1, 13):
        level = "1" if 4 <= t <= 9 else "3"
        for name in NAMES:
            question = f"Case {name}: {' '.join(['word'] * t)} What is 12 + 5?"
            items.append(Item(f"bump-{t}-{name}", question, "17", "number", level, None, "bump"))
    return items


def test_quadratic_terms_route_a_difficulty_no_weighted_sum_of_features_can(tmp_path):
    items = _bump_items()
    small, large = two_tier_backends(items)
    store = SampleStore(tmp_path / "run")
    for backend in (small, large):
        asyncio.run(run_eval(items, backend, ["sample:n=8"], store, model=backend.name))
    pools = load_pools(store.records())
    routed = {}
    for terms in ("linear", "quadratic"):
        router = train_router(pools, reps=2, terms=terms, l2=0.5)
        assert router.terms == terms and router.meta["calibration"].startswith("cross-fitted")
        big = next(p.cost for p in router.plans if p.plan.name == "cot@1")
        cheap = router.with_budget(1.2 * (1 + big) / 2)  # room for the large model on half
        routed[terms] = {i.id: cheap.choose(i.question, 2).max_tier for i in items}
    wanted = {i.id: int(i.difficulty == "3") for i in items}
    assert routed["quadratic"] == wanted
    assert routed["linear"] != wanted  # a monotone score cannot single out the middle
    again = router_from_dict(json.loads(json.dumps(router.to_dict())))
    assert again.terms == "quadratic" and again.to_dict() == router.to_dict()
    assert len(again.plans[0].coef) == len(FEATURES) * (len(FEATURES) + 3) // 2
    with pytest.raises(DataError, match="'terms' must be one of"):
        router_from_dict({**router.to_dict(), "terms": "cubic"})
    with pytest.raises(DataError, match="'term_mean' must be a list"):
        router_from_dict({**router.to_dict(), "term_mean": [0.0]})
    with pytest.raises(ConfigError, match="terms must be one of"):
        train_router(pools, reps=1, terms="cubic")


def test_a_plan_costs_more_on_a_question_whose_answers_run_longer(pools, trained):
    """The synthetic models write 10-12 words per level before answering, so every plan
    costs more on a level-4 question than on a level-1 one (prompts cost the same); the
    router forecasts that per question instead of charging every question the plan's
    mean."""
    from ponder.routing.training import label_items

    plans = [p.plan for p in trained.plans]
    labels = label_items(pools, plans, list(pools.items), reps=2)
    level = {i: pools.items[i].difficulty for i in labels.item_ids}
    unit = trained.meta["direct_cost"]
    for name in ("cot@0", "cot@1", "8@1"):
        j = next(k for k, p in enumerate(plans) if p.name == name)
        for lv in ("1", "4"):
            rows = [k for k, i in enumerate(labels.item_ids) if level[i] == lv]
            stored = float(labels.cost[rows, j].mean()) / unit
            q = next(i.question for i in ITEMS if i.difficulty == lv)
            forecast = next(c for p, _, c in trained.scores(q) if p.plan.name == name)
            assert forecast == pytest.approx(stored, rel=0.25), (name, lv)
        mean = trained.plans[j].cost
        short, long = (
            next(
                c
                for p, _, c in trained.scores(next(i.question for i in ITEMS if i.difficulty == lv))
                if p.plan.name == name
            )
            for lv in ("1", "4")
        )
        assert short < mean < long and long > 1.5 * short
    data = trained.to_dict()
    again = router_from_dict(json.loads(json.dumps(data)))
    assert [p.cost_for([0.0] * len(FEATURES)) for p in again.plans] == [
        p.cost_for([0.0] * len(FEATURES)) for p in trained.plans
    ]
    old = json.loads(json.dumps(data))
    for plan in old["plans"]:
        del plan["cost_model"]  # a router file from before cost models: the mean cost
    assert router_from_dict(old).scores(ITEMS[0].question)[3][2] == trained.plans[3].cost
    bad = json.loads(json.dumps(data))
    bad["plans"][1]["cost_model"]["coef"] = [1.0]
    with pytest.raises(DataError, match="plan 1: cost_model: 'coef' must be a list of"):
        router_from_dict(bad, "r.json")
    bad["plans"][1]["cost_model"] = {**data["plans"][1]["cost_model"], "bounds": [2.0, 1.0]}
    with pytest.raises(DataError, match="'bounds' must be \\[low, high\\]"):
        router_from_dict(bad, "r.json")


def test_the_budget_counts_the_safe_plan_new_unfamiliar_questions_get(tmp_path):
    """A question unlike the others gets the safe plan when it is new; calibration
    forecasts each training question as new (cross-fitted), so even the cheapest
    setting's cost includes that safe plan, and the budget is met on new questions."""
    from ponder.eval.datasets import Item

    odd = Item("syn-odd", "Level 1 item 99: What is 123456789 + 1?", "123456790", "number", "1")
    items = [*ITEMS, odd]
    small, large = two_tier_backends(items)
    store = SampleStore(tmp_path / "run")
    for backend in (small, large):
        asyncio.run(run_eval(items, backend, ["sample:n=8"], store, model=backend.name))
    pools = load_pools(store.records())
    router = train_router(pools, reps=2)
    plain = train_router(pools, reps=2, support=False)  # no range check: no safe plan
    assert plain.calibration[-1]["cost"] == pytest.approx(1.0)  # cot@0 for every question
    assert router.calibration[-1]["cost"] > 1.0 + 1.0 / len(items)
    assert router.outside(odd.question) == [] and router.choose(odd.question, 2)


def test_labels_computed_once_train_the_same_router(pools):
    from ponder.routing.training import Labels, label_items

    ids = sorted(pools.items)
    plans = candidate_plans(2, [8, 8])
    labels = label_items(pools, plans, ids, reps=2)
    rows = list(range(0, len(ids), 2))
    part = Labels([ids[r] for r in rows], labels.correct[rows], labels.cost[rows])
    train = [ids[r] for r in rows]
    direct = train_router(pools, train, plans, reps=2).to_dict()
    assert train_router(pools, train, plans, reps=2, labels=part).to_dict() == direct
    with pytest.raises(ConfigError, match="labels must be for the training items"):
        train_router(pools, ids, plans, reps=2, labels=part)


def test_cross_validated_routers_can_budget_tokens_instead_of_dollars(pools):
    from ponder.cascade import parse_plan
    from ponder.eval.replay import plan_evaluator, replay
    from ponder.routing.compare import crossval_routers, router_point

    _, routers = crossval_routers(pools, 3.0, folds=3, reps=2, unit="tokens")
    assert {r.meta["cost_unit"] for r in routers} == {"cot@0 tokens"}
    [direct] = replay(pools, {"cot@0": plan_evaluator(parse_plan("cot@0"))}, reps=4)
    tokens = router_point(pools, 3.0, folds=3, reps=4, unit="tokens")
    dollars = router_point(pools, 3.0, folds=3, reps=4)
    # the large tier's tokens cost more dollars: a budget in dollars buys fewer of them
    # than the same budget in tokens, which counts every token alike
    assert tokens.tokens <= 3.0 * direct.tokens * 1.15
    assert dollars.dollars <= 3.0 * direct.dollars * 1.15
    assert tokens.dollars > dollars.dollars


def test_a_router_finds_its_tiers_on_a_longer_ladder_by_model_name() -> None:
    router = Router(
        plans=[],
        mean=[],
        scale=[],
        tiers=["embedded:qwen2.5-coder-0.5b", "embedded:qwen2.5-coder-1.5b"],
    )
    ladder = [
        "embedded:smollm2-135m",
        "embedded:qwen2.5-coder-0.5b?threads=2",
        "embedded:qwen2.5-coder-1.5b",
    ]
    assert router.tier_map(ladder) == [1, 2]
    assert router.tier_map(ladder[1:]) is None  # already where the router expects them
    assert router.tier_map(ladder[::-1]) is None  # out of order: not its tiers
    assert router.tier_map(["openai:http://h/v1#qwen2.5-coder-1.5b"]) is None
