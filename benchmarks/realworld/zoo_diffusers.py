"""diffusers models from tiny configs (random init, no download), their default forward (outputs
are BaseOutput dicts unless `return_dict=False`)."""
from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("DIFFUSERS_VERBOSITY", "error")

import torch  # noqa: E402

from spec import Inputs, ModelSpec  # noqa: E402

LIBRARIES = ["transformers", "diffusers"]


def _gen(seed):
    return torch.Generator().manual_seed(seed)


def _latents(channels, side, extra=None):
    """sample/hidden_states (B, C, side, side) + timestep (B,), variants batch/size/values."""
    def make(b, s, seed, scale=1.0, name="sample"):
        g = _gen(seed)
        kw = {name: torch.randn(b, channels, s, s, generator=g) * scale,
              "timestep": torch.randint(0, 1000, (b,), generator=g)}
        if extra:
            kw.update(extra(b, g))
        return Inputs(kwargs=kw)
    return make


_UNET2D = dict(sample_size=32, in_channels=3, out_channels=3, block_out_channels=(32, 64), layers_per_block=1,
               down_block_types=("DownBlock2D", "AttnDownBlock2D"), up_block_types=("AttnUpBlock2D", "UpBlock2D"),
               norm_num_groups=8, attention_head_dim=8)
_UNET_COND = dict(sample_size=32, in_channels=4, out_channels=4, block_out_channels=(32, 64), layers_per_block=1,
                  down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
                  up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"), cross_attention_dim=32,
                  attention_head_dim=8, norm_num_groups=8)
_VAE = dict(block_out_channels=(32, 64), down_block_types=("DownEncoderBlock2D", "DownEncoderBlock2D"),
            up_block_types=("UpDecoderBlock2D", "UpDecoderBlock2D"), latent_channels=4, norm_num_groups=8)

MODELS = {
    "UNet2DModel": ("UNet2DModel", _UNET2D),
    "UNet2DConditionModel": ("UNet2DConditionModel", _UNET_COND),
    "AutoencoderKL": ("AutoencoderKL", _VAE),
    "VQModel": ("VQModel", dict(_VAE, num_vq_embeddings=32, vq_embed_dim=4)),
    "DiTTransformer2DModel": ("DiTTransformer2DModel", dict(num_attention_heads=2, attention_head_dim=8, in_channels=4,
                                                            out_channels=4, num_layers=2, sample_size=8, patch_size=2,
                                                            num_embeds_ada_norm=1000)),
    "SD3Transformer2DModel": ("SD3Transformer2DModel", dict(sample_size=16, patch_size=2, in_channels=4, num_layers=2,
                                                            attention_head_dim=8, num_attention_heads=2,
                                                            joint_attention_dim=32, caption_projection_dim=16,
                                                            pooled_projection_dim=16, out_channels=4,
                                                            pos_embed_max_size=32)),
    "ControlNetModel": ("ControlNetModel", {k: v for k, v in _UNET_COND.items()
                                            if k not in ("sample_size", "out_channels", "up_block_types")}),
}


def ids() -> list[str]:
    return sorted(MODELS)


def versions() -> dict[str, str]:
    import diffusers
    import transformers
    return {"torch": torch.__version__, "transformers": transformers.__version__, "diffusers": diffusers.__version__}


def spec(name: str) -> ModelSpec:
    import diffusers
    cls_name, config = MODELS[name]

    def build():
        torch.manual_seed(0)
        return getattr(diffusers, cls_name)(**config)

    if name in ("AutoencoderKL", "VQModel"):
        def make(b, s, seed, scale=1.0):
            return Inputs(kwargs={"sample": torch.randn(b, 3, s, s, generator=_gen(seed)) * scale})
        base, other = 32, 48
    elif name == "UNet2DModel":
        raw = _latents(3, 32)
        base, other = 32, 48

        def make(b, s, seed, scale=1.0):
            return raw(b, s, seed, scale)
    elif name in ("UNet2DConditionModel", "ControlNetModel"):
        def extra(b, g):
            kw = {"encoder_hidden_states": torch.randn(b, 7, 32, generator=g)}
            return kw
        raw = _latents(4, 32, extra)
        base, other = 32, 48

        def make(b, s, seed, scale=1.0):
            inputs = raw(b, s, seed, scale)
            if name == "ControlNetModel":
                inputs.kwargs["controlnet_cond"] = torch.rand(b, 3, s * 8, s * 8, generator=_gen(seed + 7))
            return inputs
    elif name == "DiTTransformer2DModel":
        def make(b, s, seed, scale=1.0):
            g = _gen(seed)
            return Inputs(kwargs={"hidden_states": torch.randn(b, 4, s, s, generator=g) * scale,
                                  "timestep": torch.randint(0, 1000, (b,), generator=g),
                                  "class_labels": torch.randint(0, 1000, (b,), generator=g)})
        base, other = 8, 12
    elif name == "SD3Transformer2DModel":
        def make(b, s, seed, scale=1.0):
            g = _gen(seed)
            return Inputs(kwargs={"hidden_states": torch.randn(b, 4, s, s, generator=g) * scale,
                                  "encoder_hidden_states": torch.randn(b, 7, 32, generator=g),
                                  "pooled_projections": torch.randn(b, 16, generator=g),
                                  "timestep": torch.randint(0, 1000, (b,), generator=g)})
        base, other = 16, 24
    else:
        raise ValueError(name)
    example = make(2, base, 0)
    variants = {"batch1": make(1, base, 1), "batch3": make(3, base, 2), "size": make(2, other, 4),
                "values": make(2, base, 3, 3.0)}
    return ModelSpec(f"diffusers/{name}", "diffusers", build, example, variants)
