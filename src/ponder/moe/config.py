"""What one MoE layer is: sizes, the router and its options.

``MoEConfig.from_hf_config`` reads a Hugging Face ``config.json`` (Mixtral, Qwen-MoE,
DeepSeek-V2/V3) through the planner's own parser, so the layer and ``ponder plan`` agree on
every size.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, get_args

from ponder.moe.errors import MoEConfigError

RouterKind = Literal["mixtral", "qwen", "deepseek_v2", "deepseek_v3"]
ROUTERS: tuple[str, ...] = get_args(RouterKind)


@dataclass(frozen=True)
class MoEConfig:
    """One MoE block: ``num_experts`` SwiGLU experts of width ``expert_intermediate``, each token
    sent to ``top_k`` of them, plus an optional always-on shared expert.

    - ``router="mixtral"``: softmax over all experts in fp32, top-K, renormalised over the K.
    - ``router="qwen"``: the same, renormalised only when ``norm_topk_prob``; the shared expert
      is scaled by ``sigmoid(Linear(H->1))`` when ``shared_expert_gate``.
    - ``router="deepseek_v2"``: softmax, optional group-limited top-K (``n_group`` groups, the
      best ``topk_group`` by their top expert), weights times ``routed_scaling_factor`` (or
      renormalised when ``norm_topk_prob``).
    - ``router="deepseek_v3"``: sigmoid scores; a bias (no gradient, see
      :func:`ponder.moe.balance_bias`) is added only to choose experts (groups ranked by their
      two best biased scores); weights are the unbiased scores, renormalised when
      ``norm_topk_prob``, times ``routed_scaling_factor``.

    ``capacity_factor`` caps each expert at ``ceil(factor * tokens * top_k / num_experts)``
    token slots; assignments past the cap are dropped (they contribute nothing) and counted.
    """

    hidden_size: int
    expert_intermediate: int
    num_experts: int
    top_k: int
    router: RouterKind = "mixtral"
    norm_topk_prob: bool = True
    shared_intermediate: int = 0
    shared_expert_gate: bool = False
    routed_scaling_factor: float = 1.0
    n_group: int = 1
    topk_group: int = 1
    capacity_factor: float | None = None

    def __post_init__(self) -> None:
        for name in ("hidden_size", "expert_intermediate", "num_experts", "top_k"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise MoEConfigError(f"{name} must be a positive integer, got {value!r}")
        if self.top_k > self.num_experts:
            raise MoEConfigError(
                f"top_k={self.top_k} exceeds num_experts={self.num_experts}; "
                "choose top_k between 1 and the number of experts"
            )
        if self.router not in ROUTERS:
            raise MoEConfigError(f"unknown router {self.router!r}; choose one of {ROUTERS}")
        if self.shared_intermediate < 0:
            raise MoEConfigError("shared_intermediate must be 0 (none) or a positive width")
        if self.shared_expert_gate and not self.shared_intermediate:
            raise MoEConfigError(
                "shared_expert_gate needs a shared expert: set shared_intermediate"
            )
        if self.capacity_factor is not None and not self.capacity_factor > 0:
            raise MoEConfigError(f"capacity_factor must be > 0, got {self.capacity_factor}")
        self._check_groups()

    def _check_groups(self) -> None:
        groups, keep = self.n_group, self.topk_group
        if groups < 1 or self.num_experts % groups:
            raise MoEConfigError(
                f"n_group={groups} must divide num_experts={self.num_experts}; use a divisor"
            )
        if not 1 <= keep <= groups:
            raise MoEConfigError(f"topk_group={keep} must be between 1 and n_group={groups}")
        per_group = self.num_experts // groups
        if self.top_k > keep * per_group:
            raise MoEConfigError(
                f"top_k={self.top_k} exceeds the {keep * per_group} experts in the "
                f"{keep} kept groups; raise topk_group or lower top_k"
            )
        if self.router == "deepseek_v3" and groups > 1 and per_group < 2:
            raise MoEConfigError("deepseek_v3 ranks groups by two experts: use >= 2 per group")

    @property
    def total_params(self) -> int:
        """Every weight of the block: router, all experts, shared expert, its gate, V3's bias."""
        h, e = self.hidden_size, self.num_experts
        shared = 3 * h * self.shared_intermediate + (h if self.shared_expert_gate else 0)
        bias = e if self.router == "deepseek_v3" else 0
        return h * e + bias + e * self.expert_params + shared

    @property
    def active_params(self) -> int:
        """The weights one token uses: the total minus the experts it does not visit."""
        return self.total_params - (self.num_experts - self.top_k) * self.expert_params

    @property
    def expert_params(self) -> int:
        return 3 * self.hidden_size * self.expert_intermediate

    @classmethod
    def from_hf_config(cls, cfg: Mapping[str, Any], **overrides: Any) -> MoEConfig:
        """The MoE block of a Hugging Face ``config.json`` (a dict)."""
        return cls(**{**hf_fields(cfg), **overrides})


def hf_fields(cfg: Mapping[str, Any]) -> dict[str, Any]:
    """MoEConfig fields read from a config.json, sizes parsed by the planner's parser."""
    from ponder.deploy.config_moe import parse_moe
    from ponder.errors import PlanError

    try:
        moe = parse_moe(cfg, 1)
    except (PlanError, KeyError, TypeError, ValueError) as exc:
        raise MoEConfigError(f"cannot read the MoE block of this config: {exc}") from exc
    if moe is None:
        raise MoEConfigError("config describes a dense model (no experts); pass a MoE config")
    hidden = cfg.get("hidden_size")
    if not isinstance(hidden, int):
        raise MoEConfigError("config is missing an integer 'hidden_size'; add it")
    fields: dict[str, Any] = {
        "hidden_size": hidden,
        "expert_intermediate": moe.expert_intermediate,
        "num_experts": moe.num_experts,
        "top_k": moe.experts_per_token,
        "shared_intermediate": moe.shared_intermediate,
        "shared_expert_gate": moe.shared_expert_gate,
    }
    if moe.style == "qwen":
        fields.update(router="qwen", norm_topk_prob=bool(cfg.get("norm_topk_prob", False)))
    elif moe.style == "deepseek":
        fields.update(_deepseek_fields(cfg, moe.router_bias))
    return fields


def _deepseek_fields(cfg: Mapping[str, Any], biased: bool) -> dict[str, Any]:
    if cfg.get("scoring_func") == "sigmoid" and not biased:
        raise MoEConfigError(
            "a sigmoid-scored DeepSeek config needs topk_method 'noaux_tc' (its bias); add it"
        )
    grouped = biased or cfg.get("topk_method") == "group_limited_greedy"
    return {
        "router": "deepseek_v3" if biased else "deepseek_v2",
        "norm_topk_prob": bool(cfg.get("norm_topk_prob", False)),
        "routed_scaling_factor": float(cfg.get("routed_scaling_factor") or 1.0),
        "n_group": int(cfg.get("n_group") or 1) if grouped else 1,
        "topk_group": int(cfg.get("topk_group") or 1) if grouped else 1,
    }
