"""A reference Mixture-of-Experts layer in PyTorch (extra ``ponder[moe]``).

    >>> import torch
    >>> from ponder.moe import MoEConfig, MoELayer
    >>> layer = MoELayer(MoEConfig(hidden_size=16, expert_intermediate=32, num_experts=8, top_k=2))
    >>> out = layer.run(torch.randn(4, 16))
    >>> out.hidden.shape, len(out.stats.tokens_per_expert)
    (torch.Size([4, 16]), 8)

Routers (Mixtral, Qwen-MoE, DeepSeek-V2/V3), the load-balancing and z losses, a capacity
factor, per-expert load statistics, dispatch sorted by expert, Hugging Face weight loading and
expert parallelism over ``torch.distributed``.
"""

from ponder.moe.config import ROUTERS, MoEConfig, RouterKind
from ponder.moe.errors import ExpertParallelError, MoEConfigError, MoEError
from ponder.moe.experts import ExpertBank, SwiGLU, capacity
from ponder.moe.layer import MoELayer, MoEOutput
from ponder.moe.losses import LoadStats, load_balancing_loss, router_z_loss
from ponder.moe.routing import Routing, balance_bias, route

__all__ = [
    "ROUTERS",
    "ExpertBank",
    "ExpertParallelError",
    "LoadStats",
    "MoEConfig",
    "MoEConfigError",
    "MoEError",
    "MoELayer",
    "MoEOutput",
    "RouterKind",
    "Routing",
    "SwiGLU",
    "balance_bias",
    "capacity",
    "load_balancing_loss",
    "route",
    "router_z_loss",
]
