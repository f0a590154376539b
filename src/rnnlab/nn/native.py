"""The compiled time loop (``csrc/bptt.cpp``): building it on first use, and choosing an engine.

The C++ source is compiled with ``torch.utils.cpp_extension.load`` the first time a layer asks
for ``engine="native"`` or ``"auto"`` and cached in torch's extensions folder
(``$TORCH_EXTENSIONS_DIR``, by default ``~/.cache/torch_extensions``), so later processes only
load it. It registers ``torch.ops.rnnlab_native.{rnn,lstm,gru}_{forward,backward}``; the
autograd Functions that call them are in :mod:`native_bptt`.

Engines of the layers and cells:

    "rnnlab"  the readable pure-torch BPTT Functions (rnn_bptt, lstm_bptt, gru_bptt): any device,
              any floating dtype, autocast
    "native"  the compiled loop: CPU, float32 or float64 parameters (under autocast the products
              over all T*B rows still run in its lower precision); an error otherwise, or when
              the extension cannot be built
    "auto"    "native" on CPU with float32/float64 parameters outside autocast when the extension
              builds, else "rnnlab" (one logged warning if the build fails)
"""

from __future__ import annotations

import logging
import os
import platform
import sys
import threading
from pathlib import Path

import torch

logger = logging.getLogger(__name__)

SOURCE = Path(__file__).with_name("csrc") / "bptt.cpp"
DTYPES = (torch.float32, torch.float64)

_lock = threading.Lock()
_state: dict[str, object] = {}  # "ops": the op namespace once loaded; "error": why it failed


def _isa_flags() -> tuple[str, list[str]]:
    """A name for this CPU's vector extensions and the compiler flags for them.

    The name goes into the extension's name, so a shared cache never hands a build for one CPU
    to another (the flags are not part of the cache key torch checks)."""
    if platform.machine() in ("x86_64", "AMD64"):
        try:
            flags = Path("/proc/cpuinfo").read_text().split("flags")[1].split("\n")[0].split()
        except (OSError, IndexError):
            flags = []
        avx2 = ["-mavx2", "-mfma", "-mf16c"]
        if {"avx512f", "avx512vl", "avx512dq", "avx512bw"} <= set(flags):
            # the fused passes run ~1.5x faster than with AVX2 (32 vector registers, masks)
            return "avx512", [*avx2, "-mavx512f", "-mavx512vl", "-mavx512dq", "-mavx512bw"]
        if "avx2" in flags and "fma" in flags:
            return "avx2", avx2
    return "base", []


def _build_path() -> str:
    """PATH for the build: torch runs ``ninja`` from PATH, and the ninja package puts it beside
    this Python (a virtual environment's bin/), which is not on PATH when the environment was
    not activated."""
    dirs = [os.path.dirname(sys.executable)]
    try:
        import ninja

        dirs.insert(0, ninja.BIN_DIR)
    except (ImportError, AttributeError):
        pass
    path = os.environ.get("PATH", "")
    return os.pathsep.join([*(d for d in dirs if d not in path.split(os.pathsep)), path])


def compile_extension(stem: str, source: Path, openmp: bool = False) -> None:
    """Compile ``source`` as ``rnnlab_<stem>_<isa>`` for this CPU (or load it from torch's cache)
    and register its ops (``torch.ops.rnnlab_<stem>``): -O3, this CPU's vector extensions,
    ninja found beside this Python. Also :mod:`rnnlab.nn.sgns`'s builder.

    Raises:
        whatever ``torch.utils.cpp_extension.load`` raises (see :func:`failure`).
    """
    from torch.utils import cpp_extension

    isa, flags = _isa_flags()
    omp = ["-fopenmp"] if openmp else []  # torch's own libgomp.so.1 at run time
    path, os.environ["PATH"] = os.environ.get("PATH"), _build_path()
    try:
        cpp_extension.load(
            name=f"rnnlab_{stem}_{isa}",
            sources=[str(source)],
            extra_cflags=["-O3", *omp, "-fno-trapping-math", "-fno-math-errno", *flags],
            extra_ldflags=omp,
            is_python_module=False,
            verbose=os.environ.get("RNNLAB_NATIVE_VERBOSE", "") == "1",
        )
    finally:
        if path is None:
            del os.environ["PATH"]
        else:
            os.environ["PATH"] = path


def failure(what: str, e: Exception) -> str:
    """One line on why building ``what`` failed with ``e``: the compiler's first error line
    (it says more than ninja's closing one), and what a build needs."""
    lines = str(e).strip().splitlines()
    why = next((ln for ln in lines if ": error:" in ln), lines[-1] if lines else "")
    return (
        f"{what} could not be built: {type(e).__name__}: {why.strip()} (it needs a C++ "
        "compiler and the ninja package; RNNLAB_NATIVE_VERBOSE=1 shows the build log)"
    )


def load():
    """Build (first use) or load the extension; return ``torch.ops.rnnlab_native``.

    Raises:
        RuntimeError: the extension cannot be built or loaded here (the message says why).
    """
    with _lock:
        if "ops" in _state:
            return _state["ops"]
        if "error" in _state:
            raise RuntimeError(_state["error"])
        try:
            compile_extension("native", SOURCE, openmp=True)
            _state["ops"] = torch.ops.rnnlab_native
        except Exception as e:  # noqa: BLE001 (a compiler, ninja or loader failure of any kind)
            _state["error"] = failure("the native BPTT engine", e)
            raise RuntimeError(_state["error"]) from e
        return _state["ops"]


def build_error() -> str | None:
    """Why the extension could not be built or loaded (after a failed :func:`load`), else None."""
    return _state.get("error")


def available() -> bool:
    """Whether the extension builds and loads here (builds it on the first call)."""
    try:
        load()
    except RuntimeError:
        return False
    return True


def _supported(w: torch.Tensor) -> str | None:
    """Why the native loop cannot run on parameters like ``w``, or None when it can."""
    if w.device.type != "cpu":
        return f"it runs on the CPU, the parameters are on {w.device}"
    if w.dtype not in DTYPES:
        return f"it runs in float32 or float64, the parameters are {w.dtype}"
    return None


def use_native(engine: str, w: torch.Tensor) -> bool:
    """Resolve ``engine`` for parameters like ``w``: True for the native loop, False for the
    reference ("rnnlab") Functions.

    Raises:
        ValueError: ``engine="native"`` on a device or dtype it does not support.
        RuntimeError: ``engine="native"`` and the extension cannot be built.
    """
    if engine == "rnnlab":
        return False
    why = _supported(w)
    if engine == "native":
        if why is not None:
            raise ValueError(f"engine='native' cannot run here: {why} (use engine='auto')")
        load()
        return True
    # "auto"
    if why is not None or torch.is_autocast_enabled(w.device.type):
        return False
    if "error" in _state:
        return False
    try:
        load()
    except RuntimeError as e:
        logger.warning("%s; engine='auto' falls back to the reference engine", e)
        return False
    return True
