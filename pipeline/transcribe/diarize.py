"""Speaker diarization, offline on a CPU: who speaks when, and which words are whose.

`diarize(audio)` finds speaker turns; `assign_speakers(transcript, turns)` gives every word the
speaker of the turn it overlaps most and splits segments where the speaker changes. Slots are
numbered in order of first appearance (SPEAKER_1 speaks first), so the sidecar's `speakers`
list, which names people in order of appearance, maps onto them directly.

Method (tuned on tests/data/diarization/dev and .../eval, measured on the held-out .../eval2:
docs/benchmarks.md):
1. Speech regions: faster-whisper's bundled Silero VAD with pauses down to 0.11 s kept apart, so
   a change of speaker at a pause (the usual case, even a quick reply) falls on a region
   boundary and no window straddles it (a window of two voices sounds like a third person).
2. Embeddings: Resemblyzer's voice encoder (a 3-layer LSTM trained for speaker verification, its
   weights ship in the `resemblyzer` wheel) on 1.6 s windows, 0.4 s apart, inside each region;
   a region shorter than a window is one window.
3. Count, when not given (the sidecar names the speakers when it is): the eigengap of a pruned
   affinity graph (NME-SC, see `estimate_speakers`), then clusters too small to be a person
   are folded in, and clusters as close as two halves of one voice are joined
   (MERGE_DISTANCE) unless their sound says otherwise: a Gaussian per cluster fits their
   cepstra much better than one for both (MERGE_BIC, see `Cepstra.difference`).
   Clustering: agglomerative, average linkage on cosine distance, on windows of at least 1 s
   (short ones are noisy: they join the nearest cluster afterwards).
4. Turns: every 10 ms of speech takes the cluster whose centroid the windows covering it are
   most similar to; runs of one speaker become turns, and a speaker's turns separated by a
   short pause are joined (people pause between sentences).

We load Resemblyzer's weights into the same small network here instead of importing the
package: `import resemblyzer` pulls in webrtcvad, which imports `pkg_resources`, gone from
setuptools >= 81, and librosa, whose numba-compiled mel code costs half a minute at first use.
The mel spectrogram below is librosa's `melspectrogram` (Slaney mel scale and norm, centred
Hann STFT) in plain numpy; nothing is downloaded.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.errors import ModelError
from pipeline.model import Segment, Transcript, Word

if TYPE_CHECKING:
    import numpy as np

SAMPLE_RATE = 16_000
FRAME = 0.01  # seconds per mel frame (and per decision frame)
WINDOW = 1.6  # seconds per embedding window: the encoder's training length (160 frames)
HOP = 0.4  # seconds between windows
MIN_CLUSTER_WINDOW = 1.0  # shorter windows are assigned to clusters, not used to find them
MIN_SPAN = 0.2  # speech regions shorter than this are too short to say whose they are
MIN_PAUSE_MS = 110  # the VAD keeps speech apart at pauses this long (ms)
SPEECH_PAD_MS = 60  # and pads each region by this much
JOIN_PAUSE = 1.0  # a speaker's turns closer than this are one turn
MAX_SPEAKERS = 8  # the most speakers the count estimate considers
MAX_CLUSTER_WINDOWS = 2000  # windows clustered (evenly spread): bounds memory on long episodes
MAX_COUNT_WINDOWS = 400  # windows used to estimate the count: each eigensolve is cubic in it
# Tuned on the development sets, dev and the first evaluation set (bench/diarize.py --set dev,
# --set eval; docs/benchmarks.md): centroids closer than this (cosine distance) are one voice,
# unless their cepstra differ by more than MERGE_BIC (delta-BIC per frame); fewer windows are
# not a person (5 windows of >= 1 s, 0.4 s apart: about 3 s of speech). Every value from 0.20
# to 0.25, 0.5 to 1.3 and 5 to 6 gave every count right there, with pauses of 0.10 to 0.12 s.
MERGE_DISTANCE = 0.22
MERGE_BIC = 0.9
MIN_SPEAKER_WINDOWS = 5
CEPSTRA = 19  # cepstral coefficients 1..19 of the log mel spectrum (0, the loudness, left out)
BATCH = 128  # windows per forward pass
# The encoder runs on one thread: its LSTM does 480 tiny steps per batch, and with two threads
# each step ends at a barrier that waits for the other thread. On a 2-core machine shared with
# the transcriber's threads (or anything else) that made embedding 5-20x slower in wall and CPU
# time than one thread (docs/benchmarks.md, "Time").
ENCODER_THREADS = 1
TARGET_DBFS = -30.0  # loudness the encoder expects (Resemblyzer's audio_norm_target_dBFS)

SpeechSpans = list[tuple[float, float]]


@dataclass(frozen=True)
class Turn:
    """A stretch of one speaker's speech, in seconds; `slot` is "SPEAKER_1", "SPEAKER_2"..."""

    start: float
    end: float
    slot: str


# --- the voice encoder --------------------------------------------------------------------

_ENCODER: Any = None  # loaded on first use, then shared: loading takes a second


def _encoder() -> Any:
    global _ENCODER
    if _ENCODER is None:
        _ENCODER = _load_encoder()
    return _ENCODER


def _weights_path() -> Path:
    """Resemblyzer's `pretrained.pt`, found without importing the package (see module doc)."""
    spec = importlib.util.find_spec("resemblyzer")
    if spec is None or not spec.submodule_search_locations:
        raise ModelError("speaker labels need the resemblyzer package (pip install Resemblyzer)")
    path = Path(next(iter(spec.submodule_search_locations))) / "pretrained.pt"
    if not path.is_file():
        raise ModelError(f"resemblyzer's voice encoder weights are missing: {path}")
    return path


def _load_encoder() -> Any:
    try:
        import torch
        from torch import nn
    except ImportError as e:
        raise ModelError("speaker labels need torch (the Makefile installs the CPU build)") from e

    class VoiceEncoder(nn.Module):
        """Resemblyzer's network: mel frames -> L2-normed 256-d speaker embedding."""

        def __init__(self) -> None:
            super().__init__()
            self.lstm = nn.LSTM(40, 256, 3, batch_first=True)
            self.linear = nn.Linear(256, 256)

        def forward(self, mels: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
            if lengths is not None:  # padded windows of different lengths, in one batch
                mels = nn.utils.rnn.pack_padded_sequence(mels, lengths, batch_first=True,
                                                         enforce_sorted=False)
            _, (hidden, _) = self.lstm(mels)
            embeds = torch.relu(self.linear(hidden[-1]))
            return embeds / torch.norm(embeds, dim=1, keepdim=True).clamp_min(1e-9)

    checkpoint = torch.load(_weights_path(), map_location="cpu", weights_only=True)
    state = {k: v for k, v in checkpoint["model_state"].items() if not k.startswith("similarity")}
    encoder = VoiceEncoder()
    encoder.load_state_dict(state)
    return encoder.eval()


_MEL_BASIS: Any = None


def _mel_basis() -> np.ndarray:
    """librosa.filters.mel(sr=16000, n_fft=400, n_mels=40): Slaney scale, Slaney norm."""
    global _MEL_BASIS
    if _MEL_BASIS is None:
        import numpy as np

        def hz_to_mel(hz: np.ndarray) -> np.ndarray:
            hz = np.asarray(hz, dtype=np.float64)
            linear = hz / (200.0 / 3)
            log = 15.0 + np.log(np.maximum(hz, 1e-10) / 1000.0) / (np.log(6.4) / 27.0)
            return np.where(hz >= 1000.0, log, linear)

        def mel_to_hz(mel: np.ndarray) -> np.ndarray:
            linear = mel * (200.0 / 3)
            log = 1000.0 * np.exp((np.log(6.4) / 27.0) * (mel - 15.0))
            return np.where(mel >= 15.0, log, linear)

        n_fft, n_mels = 400, 40
        fft_freqs = np.linspace(0, SAMPLE_RATE / 2, 1 + n_fft // 2)
        mel_freqs = mel_to_hz(np.linspace(hz_to_mel(0.0), hz_to_mel(SAMPLE_RATE / 2), n_mels + 2))
        ramps = mel_freqs[:, None] - fft_freqs[None, :]
        widths = np.diff(mel_freqs)
        lower = -ramps[:-2] / widths[:-1, None]
        upper = ramps[2:] / widths[1:, None]
        weights = np.maximum(0, np.minimum(lower, upper))
        weights *= (2.0 / (mel_freqs[2:] - mel_freqs[:-2]))[:, None]
        _MEL_BASIS = weights.astype(np.float32)
    return _MEL_BASIS


def mel_frames(samples: np.ndarray) -> np.ndarray:
    """Power mel spectrogram, (frames, 40), one frame per 10 ms: the encoder's input."""
    import numpy as np

    n_fft, hop = 400, 160
    padded = np.pad(samples.astype(np.float32), n_fft // 2)
    count = 1 + (len(padded) - n_fft) // hop
    index = np.arange(n_fft)[None, :] + hop * np.arange(count)[:, None]
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n_fft) / n_fft)  # periodic Hann
    power = np.abs(np.fft.rfft(padded[index] * window, axis=1)) ** 2
    return (power @ _mel_basis().T).astype(np.float32)


# --- speech and windows -------------------------------------------------------------------


def speech_regions(samples: np.ndarray) -> SpeechSpans:
    """Silero VAD (bundled with faster-whisper) keeping pauses of MIN_PAUSE_MS apart."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    options = VadOptions(min_silence_duration_ms=MIN_PAUSE_MS, speech_pad_ms=SPEECH_PAD_MS)
    chunks = get_speech_timestamps(samples, options, sampling_rate=SAMPLE_RATE)
    return [(c["start"] / SAMPLE_RATE, c["end"] / SAMPLE_RATE) for c in chunks]


def _windows(spans: SpeechSpans) -> list[tuple[float, float]]:
    """Embedding windows: WINDOW long, HOP apart, covering each region up to its end."""
    windows = []
    for start, end in spans:
        if end - start < MIN_SPAN:
            continue
        if end - start <= WINDOW:
            windows.append((start, end))
            continue
        count = 1 + int(-(-(end - start - WINDOW) // HOP))  # ceil: the last window ends at `end`
        step = (end - start - WINDOW) / (count - 1)
        windows += [(start + i * step, start + i * step + WINDOW) for i in range(count)]
    return windows


def _embed(mels: np.ndarray, windows: list[tuple[float, float]]) -> np.ndarray:
    """One embedding per window, in batches; shorter windows are padded and packed."""
    import numpy as np
    import torch

    encoder = _encoder()
    starts = [min(int(round(a / FRAME)), len(mels) - 1) for a, _ in windows]
    lengths = [max(1, min(int(round(b / FRAME)), len(mels)) - a) for a, (_, b) in zip(starts, windows)]
    embeddings = []
    with torch.inference_mode(), _torch_threads(ENCODER_THREADS):
        for first in range(0, len(windows), BATCH):
            batch = range(first, min(first + BATCH, len(windows)))
            longest = max(lengths[i] for i in batch)
            padded = np.zeros((len(batch), longest, mels.shape[1]), np.float32)
            for row, i in enumerate(batch):
                padded[row, : lengths[i]] = mels[starts[i] : starts[i] + lengths[i]]
            sizes = torch.tensor([lengths[i] for i in batch])
            embeddings.append(encoder(torch.from_numpy(padded), sizes).numpy())
    return np.concatenate(embeddings)


@contextmanager
def _torch_threads(count: int) -> Iterator[None]:
    """Run torch on `count` threads, then give the process its previous setting back."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


# --- what a cluster sounds like -----------------------------------------------------------


@dataclass(frozen=True)
class Cepstra:
    """Cepstra of every 10 ms frame, and which frames each embedding window covers.

    The voice encoder hears two similar voices (two synthetic men, say) as close as two halves
    of one voice; their spectra still differ. `difference` says by how much: the classic
    Bayesian information criterion for a change of speaker (Chen and Gopalakrishnan 1998),
    one full-covariance Gaussian for both clusters' frames against one for each.
    """

    frames: np.ndarray  # (frames, CEPSTRA)
    windows: list[tuple[int, int]]  # each window's first and last frame + 1

    @classmethod
    def of(cls, mels: np.ndarray, windows: list[tuple[float, float]]) -> Cepstra:
        import numpy as np
        from scipy.fft import dct

        frames = dct(np.log(mels + np.float32(1e-6)), type=2, norm="ortho", axis=1)  # float32
        spans = [(int(start / FRAME), int(end / FRAME)) for start, end in windows]
        return cls(frames[:, 1 : CEPSTRA + 1], spans)

    def _mask(self, windows: np.ndarray) -> np.ndarray:
        import numpy as np

        mask = np.zeros(len(self.frames), bool)
        for window in windows:
            first, last = self.windows[window]
            mask[first:last] = True
        return mask

    def difference(self, a: np.ndarray, b: np.ndarray) -> float:
        """Delta-BIC per frame between the frames only `a`'s windows cover and those only
        `b`'s cover: above 0, two Gaussians describe them better than one, penalty included."""
        import numpy as np

        in_a, in_b = self._mask(a), self._mask(b)
        first, second = self.frames[in_a & ~in_b], self.frames[in_b & ~in_a]
        dims = self.frames.shape[1]
        if min(len(first), len(second)) <= dims:
            return 0.0  # too little sound to tell: the embeddings decide
        both = np.vstack([first, second])
        penalty = 0.5 * (dims + dims * (dims + 1) / 2) * np.log(len(both))
        gain = _spread(both) - _spread(first) - _spread(second)
        return float((gain - penalty) / len(both))


def _spread(frames: np.ndarray) -> float:
    """Half the frame count times the log-determinant of their covariance (the part of a
    Gaussian's log-likelihood that depends on the data)."""
    import numpy as np

    covariance = np.cov(frames, rowvar=False) + 1e-6 * np.eye(frames.shape[1])
    return 0.5 * len(frames) * float(np.linalg.slogdet(covariance)[1])


# --- clustering ---------------------------------------------------------------------------


def _cluster(embeddings: np.ndarray, lengths: np.ndarray, num_speakers: int | None,
             sound: Cepstra | None = None) -> np.ndarray:
    """A cluster label per window (0..k-1): clusters are found on the windows of at least
    MIN_CLUSTER_WINDOW (at most MAX_CLUSTER_WINDOWS of them), then every window joins the
    cluster whose centroid it is most similar to. `sound`: the windows' cepstra, which an
    estimated count consults before joining two clusters."""
    import numpy as np
    from scipy.cluster.hierarchy import fcluster, linkage

    reliable = np.flatnonzero(lengths >= MIN_CLUSTER_WINDOW - 1e-6)
    if len(reliable) < 2:
        reliable = np.flatnonzero(lengths >= lengths.max() - 1e-6)  # only short speech here
    reliable = reliable[_evenly(len(reliable), MAX_CLUSTER_WINDOWS)]
    estimated = num_speakers is None
    if estimated:
        num_speakers = estimate_speakers(embeddings[reliable])
    if len(reliable) < 2 or num_speakers <= 1:
        return np.zeros(len(embeddings), int)
    tree = linkage(embeddings[reliable], method="average", metric="cosine")
    labels = fcluster(tree, t=min(num_speakers, len(reliable)), criterion="maxclust") - 1
    if estimated:
        labels = _merge_doubles(embeddings[reliable], labels, reliable, sound)
    centroids = _centroids(embeddings[reliable], labels)
    return np.argmax(embeddings @ centroids.T, axis=1)


def _merge_doubles(embeddings: np.ndarray, labels: np.ndarray, windows: np.ndarray,
                   sound: Cepstra | None) -> np.ndarray:
    """Undo an estimated count's excess: fold in clusters too small to be a person, and join
    clusters whose centroids are as close as one voice's halves (MERGE_DISTANCE) unless their
    cepstra tell two voices apart (MERGE_BIC). `windows`: each embedding's window number."""
    import numpy as np

    def sound_alike(a: int, b: int) -> bool:
        if sound is None:
            return True
        return sound.difference(windows[labels == a], windows[labels == b]) < MERGE_BIC

    while labels.max() > 0:
        sizes = np.bincount(labels)
        centroids = _centroids(embeddings, labels)
        similarity = centroids @ centroids.T
        np.fill_diagonal(similarity, -np.inf)
        smallest = int(np.argmin(sizes))
        if sizes[smallest] < MIN_SPEAKER_WINDOWS:
            keep, fold = int(np.argmax(similarity[smallest])), smallest
        else:
            keep, fold = np.unravel_index(np.argmax(similarity), similarity.shape)
            if 1 - similarity[keep, fold] >= MERGE_DISTANCE or not sound_alike(keep, fold):
                break
        labels = np.unique(np.where(labels == fold, keep, labels), return_inverse=True)[1]
    return labels


def _evenly(count: int, most: int) -> np.ndarray:
    """Indices of at most `most` of `count` items, spread evenly (long episodes)."""
    import numpy as np

    return np.unique(np.linspace(0, count - 1, min(count, most)).round().astype(int))


def _centroids(embeddings: np.ndarray, labels: np.ndarray) -> np.ndarray:
    import numpy as np

    sums = np.stack([embeddings[labels == k].sum(axis=0) for k in range(labels.max() + 1)])
    return sums / np.linalg.norm(sums, axis=1, keepdims=True)


def estimate_speakers(embeddings: np.ndarray, max_speakers: int = MAX_SPEAKERS) -> int:
    """How many speakers the embeddings come from: the eigengap of a pruned affinity graph.

    Auto-tuning spectral clustering's count (Park et al. 2020, "Auto-Tuning Spectral Clustering
    for Speaker Diarization Using Normalized Maximum Eigengap", NME-SC): keep each window's p
    most similar neighbours, take the eigenvalues of the graph Laplacian, and for each p find
    the largest gap among the smallest eigenvalues; the p with the clearest gap (smallest
    p / normalised gap) wins, and the position of its gap is the count. No threshold to tune.
    """
    import numpy as np
    from scipy.linalg import eigh

    embeddings = embeddings[_evenly(len(embeddings), MAX_COUNT_WINDOWS)]
    count = len(embeddings)
    if count < 3:
        return 1
    similarity = embeddings @ embeddings.T
    neighbours = np.argsort(-similarity, axis=1)
    best_ratio, best_count = np.inf, 1
    for p in np.unique(np.linspace(2, max(2, count // 4), 20).astype(int)):
        affinity = np.zeros_like(similarity)
        np.put_along_axis(affinity, neighbours[:, :p], 1.0, axis=1)
        affinity = (affinity + affinity.T) / 2
        laplacian = np.diag(affinity.sum(axis=1)) - affinity
        eigenvalues = eigh(laplacian, eigvals_only=True)
        gaps = np.diff(eigenvalues[: min(max_speakers, count - 1) + 1])
        gap = int(np.argmax(gaps))
        ratio = p / (gaps[gap] / max(eigenvalues[-1], 1e-10) + 1e-10)
        if ratio < best_ratio:
            best_ratio, best_count = ratio, gap + 1
    return best_count


# --- turns --------------------------------------------------------------------------------


def _frame_labels(windows: list[tuple[float, float]], scores: np.ndarray,
                  total_frames: int) -> np.ndarray:
    """Per 10 ms frame, the speaker the covering windows favour on average; -1: no speech."""
    import numpy as np

    summed = np.zeros((total_frames, scores.shape[1]), np.float32)
    counts = np.zeros(total_frames, np.int32)
    for (start, end), score in zip(windows, scores):
        a, b = int(round(start / FRAME)), min(int(round(end / FRAME)), total_frames)
        summed[a:b] += score
        counts[a:b] += 1
    labels = np.argmax(summed, axis=1)
    labels[counts == 0] = -1
    return labels


def _runs(labels: np.ndarray) -> list[tuple[float, float, int]]:
    """(start, end, label) for each run of one label, speech only."""
    import numpy as np

    changes = np.flatnonzero(np.diff(labels)) + 1
    bounds = np.concatenate([[0], changes, [len(labels)]])
    return [(a * FRAME, b * FRAME, int(labels[a]))
            for a, b in zip(bounds[:-1], bounds[1:]) if labels[a] >= 0]


def _join(runs: list[tuple[float, float, int]]) -> list[tuple[float, float, int]]:
    """Join a speaker's consecutive runs across pauses shorter than JOIN_PAUSE."""
    joined: list[tuple[float, float, int]] = []
    for start, end, label in runs:
        if joined and joined[-1][2] == label and start - joined[-1][1] < JOIN_PAUSE:
            joined[-1] = (joined[-1][0], end, label)
        else:
            joined.append((start, end, label))
    return joined


def _turns_in_order(runs: list[tuple[float, float, int]]) -> list[Turn]:
    """Turns with slots numbered by first appearance: the first voice heard is SPEAKER_1."""
    order: dict[int, int] = {}
    for _, _, label in runs:
        order.setdefault(label, len(order) + 1)
    return [Turn(round(float(start), 3), round(float(end), 3), f"SPEAKER_{order[label]}")
            for start, end, label in runs]


def diarize_samples(samples: np.ndarray, num_speakers: int | None = None,
                    speech_spans: SpeechSpans | None = None) -> list[Turn]:
    """`diarize` on 16 kHz mono float32 samples already in memory."""
    import numpy as np

    spans = speech_spans if speech_spans is not None else speech_regions(samples)
    windows = _windows(spans)
    if not windows:
        return []
    mels = mel_frames(_normalise(samples, spans))
    embeddings = _embed(mels, windows)
    lengths = np.array([end - start for start, end in windows])
    sound = Cepstra.of(mels, windows) if num_speakers is None else None
    labels = _cluster(embeddings, lengths, num_speakers, sound)
    centroids = _centroids(embeddings, labels)
    frames = _frame_labels(windows, embeddings @ centroids.T, len(mels))
    return _turns_in_order(_join(_runs(frames)))


def diarize(audio: Path, num_speakers: int | None = None,
            speech_spans: SpeechSpans | None = None) -> list[Turn]:
    """Who speaks when in `audio`: turns in time order, slots numbered by first appearance.

    `num_speakers`: how many people speak, when known (the sidecar names them); otherwise it
    is estimated. `speech_spans`: speech regions in seconds, when a VAD already found them.
    """
    from pipeline.transcribe.engines.base import load_audio

    return diarize_samples(load_audio(audio), num_speakers, speech_spans)


def _normalise(samples: np.ndarray, spans: SpeechSpans) -> np.ndarray:
    """Scale the speech to the loudness the encoder was trained at (its mel is not log)."""
    import numpy as np

    speech = np.concatenate([samples[int(a * SAMPLE_RATE) : int(b * SAMPLE_RATE)] for a, b in spans]
                            or [samples])
    rms = float(np.sqrt(np.mean(speech.astype(np.float64) ** 2)))
    if rms <= 0:
        return samples
    return samples * (10 ** (TARGET_DBFS / 20) / rms)


# --- speakers into the transcript ---------------------------------------------------------


def speaker_at(turns: Sequence[Turn], start: float, end: float) -> str | None:
    """The slot of the turn overlapping start..end most; the nearest turn when none overlaps."""
    if not turns:
        return None
    best, best_overlap = None, 0.0
    for turn in turns:
        overlap = min(end, turn.end) - max(start, turn.start)
        if overlap > best_overlap:
            best, best_overlap = turn.slot, overlap
    if best is not None:
        return best
    middle = (start + end) / 2
    nearest = min(turns, key=lambda t: max(t.start - middle, middle - t.end, 0.0))
    return nearest.slot


def assign_speakers(transcript: Transcript, turns: Sequence[Turn]) -> Transcript:
    """Give every word and segment a speaker from `turns`; split segments where it changes.

    Segments are renumbered 0..n-1; word timings are kept. A segment whose words no longer spell
    its text (an edited one) is not split: it takes the speaker of most of its time. Returns a
    new Transcript; `transcript` is left as it was.
    """
    from pipeline.transcripts.captions import words_usable

    segments: list[Segment] = []
    for segment in transcript.segments:
        if not words_usable(segment):
            slot = speaker_at(turns, segment.start, segment.end)
            words = [replace(w, speaker=slot) for w in segment.words]
            segments.append(replace(segment, speaker=slot, words=words))
            continue
        words = [replace(w, speaker=speaker_at(turns, w.start, w.end)) for w in segment.words]
        segments += _split(segment, words)
    for index, segment in enumerate(segments):
        segment.id = index
    return replace(transcript, segments=segments)


def _split(segment: Segment, words: list[Word]) -> list[Segment]:
    """One segment per run of words with one speaker; the first and last keep the outer times."""
    groups: list[list[Word]] = []
    for word in words:
        if groups and groups[-1][-1].speaker == word.speaker:
            groups[-1].append(word)
        else:
            groups.append([word])
    if len(groups) == 1:
        return [replace(segment, speaker=words[0].speaker, words=words)]
    pieces = []
    for number, group in enumerate(groups):
        start = segment.start if number == 0 else group[0].start
        end = segment.end if number == len(groups) - 1 else group[-1].end
        pieces.append(replace(segment, start=start, end=end, words=group,
                              text="".join(w.text for w in group), speaker=group[0].speaker,
                              flags=list(segment.flags)))
    return pieces
