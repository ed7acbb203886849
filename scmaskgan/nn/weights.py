"""Reading saved network weights safely: tensors only (``torch.load(weights_only=True)``), never a pickle."""

from __future__ import annotations

from pathlib import Path

from .._validation import InputError

__all__ = ["load_weights"]


def load_weights(path: Path, networks: dict) -> None:
    """Load the state dicts saved in ``path`` into ``networks`` (``{key in the file: torch module}``).

    Raises
    ------
    InputError
        When the file is missing, is not a torch file of tensors (a pickle of arbitrary objects is
        refused, not run), or its weights do not fit the networks.
    """
    import torch

    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
        for key, network in networks.items():
            network.load_state_dict(state[key])
    except FileNotFoundError:
        raise InputError(f"{path} is missing; the saved model is incomplete.") from None
    except Exception as err:  # corrupt file, foreign pickle, wrong shapes
        import pickle

        if isinstance(err, pickle.UnpicklingError) or "weights_only" in str(err):
            # torch's own text advises weights_only=False, which would run the file's code: not repeated here
            raise InputError(f"{path} cannot be loaded as this model's weights: it holds Python objects, not only "
                             "tensors, and was refused unread (a saved scmaskgan model holds tensors only)") from None
        raise InputError(f"{path} cannot be loaded as this model's weights: {err}") from None
