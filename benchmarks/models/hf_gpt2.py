"""Hugging Face GPT-2 from a tiny config (random init, no cache), keyword inputs."""
import torch
import transformers

ENV = "hf"


def build():
    torch.manual_seed(0)
    config = transformers.GPT2Config(vocab_size=100, n_embd=32, n_layer=2, n_head=2, n_positions=64,
                                     bos_token_id=0, eos_token_id=0, use_cache=False)
    model = transformers.GPT2Model(config)
    ids = torch.randint(5, 100, (2, 12))
    mask = torch.ones(2, 12, dtype=torch.long)
    return model, (), {"input_ids": ids, "attention_mask": mask}


def tracelint_examples():
    import tracelint

    model, args, kwargs = build()
    yield tracelint.Example(model, args, kwargs=kwargs, name="gpt2")
