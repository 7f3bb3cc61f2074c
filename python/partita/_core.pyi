"""
partita compiled core (use the `partita` package, not this module)
"""
from __future__ import annotations
import numpy
from partita import FormatError
from partita import InvalidArgument
from partita import IoError
from partita import MidiError
from partita import RenderError
from partita import ShapeError
from partita import WeightsError
import typing
import typing_extensions
__all__: list[str] = ['ARCNN', 'Adam', 'AdamW', 'ConstantSchedule', 'ControlChange', 'Error', 'FormatError', 'InvalidArgument', 'InverseSqrtSchedule', 'IoError', 'KeySignature', 'MidiError', 'MultiTrackRoll', 'Note', 'PairBatcher', 'ParameterSet', 'PianoRoll', 'PitchBend', 'RenderError', 'Schedule', 'Score', 'ShapeError', 'StepSchedule', 'Synth', 'TempoChange', 'TimeSignature', 'Track', 'WeightsError', 'WindowSet', 'clip_grad_norm', 'default_jsb_path', 'default_soundfont_paths', 'find_soundfont', 'from_pianoroll', 'grad_norm', 'jsb_windows', 'load_jsb_chorales', 'load_safetensors', 'make_windows', 'midi_folder_windows', 'num_threads', 'read_midi', 'read_midi_bytes', 'read_wav', 'save_safetensors', 'set_num_threads', 'split_windows', 'to_multitrack', 'to_pianoroll', 'write_midi', 'write_midi_bytes', 'write_wav']
class Error(RuntimeError):
    pass
class Note:
    """
    A note: MIDI pitch, velocity, start and end in ticks.
    """
    __hash__: typing.ClassVar[None] = None
    pitch: int
    velocity: int
    def __eq__(self, arg0: Note) -> bool:
        ...
    def __getstate__(self) -> tuple:
        ...
    def __init__(self, pitch: int = 60, velocity: int = 100, start: int = 0, end: int = 0) -> None:
        ...
    def __repr__(self) -> str:
        ...
    def __setstate__(self, arg0: tuple) -> None:
        ...
    @property
    def duration(self) -> int:
        """
        end - start, in ticks
        """
    @property
    def end(self) -> int:
        """
        tick of the note-off
        """
    @end.setter
    def end(self, arg0: int) -> None:
        ...
    @property
    def start(self) -> int:
        """
        tick of the note-on
        """
    @start.setter
    def start(self, arg0: int) -> None:
        ...
class ControlChange:
    """
    A control change: tick, controller number, value.
    """
    number: int
    tick: int
    value: int
    def __getstate__(self) -> tuple:
        ...
    def __init__(self, tick: int = 0, number: int = 0, value: int = 0) -> None:
        ...
    def __repr__(self) -> str:
        ...
    def __setstate__(self, arg0: tuple) -> None:
        ...
class PitchBend:
    """
    A pitch bend: tick and value in -8192..8191.
    """
    tick: int
    value: int
    def __getstate__(self) -> tuple:
        ...
    def __init__(self, tick: int = 0, value: int = 0) -> None:
        ...
    def __repr__(self) -> str:
        ...
    def __setstate__(self, arg0: tuple) -> None:
        ...
class TempoChange:
    """
    A tempo change: tick and quarter notes per minute.
    """
    qpm: float
    tick: int
    def __getstate__(self) -> tuple:
        ...
    def __init__(self, tick: int = 0, qpm: float = 120.0) -> None:
        ...
    def __repr__(self) -> str:
        ...
    def __setstate__(self, arg0: tuple) -> None:
        ...
    @property
    def microseconds_per_quarter(self) -> int:
        ...
class TimeSignature:
    """
    A time signature change: tick, numerator, denominator.
    """
    denominator: int
    numerator: int
    tick: int
    def __getstate__(self) -> tuple:
        ...
    def __init__(self, tick: int = 0, numerator: int = 4, denominator: int = 4) -> None:
        ...
    def __repr__(self) -> str:
        ...
    def __setstate__(self, arg0: tuple) -> None:
        ...
class KeySignature:
    """
    A key signature change: tick, sharps (-7..7, negative = flats), minor.
    """
    minor: bool
    sharps: int
    tick: int
    def __getstate__(self) -> tuple:
        ...
    def __init__(self, tick: int = 0, sharps: int = 0, minor: bool = False) -> None:
        ...
    def __repr__(self) -> str:
        ...
    def __setstate__(self, arg0: tuple) -> None:
        ...
class Track:
    """
    One instrument: name, General MIDI program, drum flag, MIDI channel (-1 = assign on write), notes, control changes and pitch bends. List attributes are copies.
    """
    channel: int
    controls: list[ControlChange]
    is_drum: bool
    name: str
    notes: list[Note]
    pitch_bends: list[PitchBend]
    program: int
    def __getstate__(self) -> tuple:
        ...
    def __init__(self, name: str = '', program: int = 0, is_drum: bool = False, channel: int = -1, notes: list[Note] = [], controls: list[ControlChange] = [], pitch_bends: list[PitchBend] = []) -> None:
        ...
    def __repr__(self) -> str:
        ...
    def __setstate__(self, arg0: tuple) -> None:
        ...
class Score:
    """
    Notes in ticks with the tempo map, meters, keys and tracks of a MIDI file. List attributes are copies: assign a whole list to change one.
    """
    key_signatures: list[KeySignature]
    tempos: list[TempoChange]
    ticks_per_quarter: int
    time_signatures: list[TimeSignature]
    tracks: list[Track]
    @staticmethod
    def from_pianoroll(roll: typing.Any, resolution: int | None = None, tempo: float | None = None, program: int | None = None, velocity: int | None = None, ticks_per_quarter: int = 480, onsets: typing.Any = None, is_drum: bool | None = None, name: str | None = None) -> Score:
        """
        Build a Score from a piano roll.
        
        roll: PianoRoll, MultiTrackRoll, or a numpy array (time, 128) / (track, time, 128)
            of uint8 velocities or bool.
        resolution: steps per quarter (default: the roll's own; 4 for a bare array).
        tempo: quarter notes per minute (default: the roll's, 120 for a bare array).
        program: General MIDI program (default: the roll's, 0 for a bare array).
        velocity: velocity of every note (default: the cell values; 100 for binary rolls).
        ticks_per_quarter: resolution of the returned Score (default 480).
        onsets: onset array for a bare `roll` array (non-zero = a note starts).
        Each run of non-zero cells on a pitch is one note, split where onsets are set.
        """
    @staticmethod
    def from_pretty_midi(pm):
        """
        Return a partita.Score from a pretty_midi.PrettyMIDI: ticks per quarter =
            pm.resolution, every time mapped to its nearest tick with pm.time_to_tick.
        """
    @staticmethod
    def to_pretty_midi(score):
        """
        Return a pretty_midi.PrettyMIDI with the notes, tempo map, time and key
            signatures, programs, drum flags, names, control changes and pitch bends of
            `score` (a partita.Score).
        """
    def __getstate__(self) -> tuple:
        ...
    def __init__(self, ticks_per_quarter: int = 480, tempos: list[TempoChange] = [], time_signatures: list[TimeSignature] = [], key_signatures: list[KeySignature] = [], tracks: list[Track] = []) -> None:
        ...
    def __repr__(self) -> str:
        ...
    def __setstate__(self, arg0: tuple) -> None:
        ...
    @typing.overload
    def seconds(self, tick: int) -> float:
        """
        Seconds at `tick` from the tempo map (120 qpm before the first change).
        """
    @typing.overload
    def seconds(self, ticks: numpy.ndarray[typing.Any, numpy.dtype[numpy.int64]]) -> numpy.ndarray[typing.Any, numpy.dtype[numpy.float64]]:
        """
        Seconds for an array of ticks.
        """
    def sort(self) -> None:
        """
        Sort notes and events of every track and the meta lists by tick.
        """
    def ticks(self, seconds: float) -> float:
        """
        The (fractional) tick at `seconds`.
        """
    def to_multitrack(self, resolution: int = 4, binarize: bool = False, length: int | None = None, bars: int | None = None, whole_bars: bool = False, onsets: bool = False) -> MultiTrackRoll:
        """
        One roll per track (drums included), all of one length.
        """
    def to_pianoroll(self, resolution: int = 4, track: int | None = None, binarize: bool = False, length: int | None = None, bars: int | None = None, whole_bars: bool = False, onsets: bool = False, include_drums: bool = False) -> PianoRoll:
        """
        Lay the score on a grid of `resolution` steps per quarter note.
        
        track: index of the track to roll; None merges all tracks (cell = max velocity;
            drum tracks only with include_drums=True).
        binarize: cells 0/1 (the array has dtype bool) instead of velocities (uint8).
        length: exact number of steps (pads with silence or cuts notes); bars: exact
            number of bars of the first time signature; whole_bars: round the natural
            length (last note end) up to whole bars.
        onsets: also fill the onset channel (1 where a note starts), so repeated notes
            survive the way back.
        Quantization: start and end ticks round to the nearest step (halves up), each
        note at least one step. The first tempo and time signature are kept in the roll.
        """
    @property
    def duration_seconds(self) -> float:
        """
        seconds(end_tick)
        """
    @property
    def end_tick(self) -> int:
        """
        largest note end over all tracks
        """
    @property
    def note_count(self) -> int:
        """
        number of notes in all tracks
        """
class PianoRoll:
    """
    A (time, 128) piano roll, time first.
    
    PianoRoll(array, resolution=4, onsets=None, tempo=120.0, time_signature=(4, 4),
              program=0, is_drum=False, name="")
    
    `array` is uint8 velocities or bool (binary); a C-contiguous writeable uint8/bool
    array is used in place (no copy): writing to it changes the roll and back.
    `.array` / `.onsets` are numpy views of the roll's memory.
    """
    is_drum: bool
    name: str
    program: int
    @staticmethod
    def zeros(steps: int, resolution: int = 4, onsets: bool = False, binary: bool = False) -> PianoRoll:
        """
        A silent roll of `steps` steps.
        """
    def __array__(self, dtype: typing.Any = None, copy: typing.Any = None) -> typing.Any:
        ...
    def __init__(self, array: typing.Any, resolution: int = 4, onsets: typing.Any = None, tempo: float = 120.0, time_signature: tuple[int, int] = (4, 4), program: int = 0, is_drum: bool = False, name: str = '') -> None:
        ...
    def __len__(self) -> int:
        ...
    def __repr__(self) -> str:
        ...
    def active_cells(self) -> int:
        """
        Number of non-zero cells.
        """
    def binarized(self) -> PianoRoll:
        """
        A copy with cells 0/1 (dtype bool).
        """
    def copy(self) -> PianoRoll:
        """
        A deep copy (cells, onsets, metadata).
        """
    def derive_onsets(self) -> None:
        """
        Give the roll an onset channel marking the start of every run of on cells.
        """
    def drop_onsets(self) -> None:
        ...
    def to_score(self, tempo: float | None = None, program: int | None = None, velocity: int | None = None, ticks_per_quarter: int = 480) -> Score:
        """
        The roll as a one-track Score (see from_pianoroll).
        """
    def with_length(self, steps: int) -> PianoRoll:
        """
        A copy `steps` long: cut, or padded with silence.
        """
    @property
    def array(self) -> numpy.ndarray[typing.Any, numpy.dtype[typing.Any]]:
        """
        The cells as a (time, 128) numpy array sharing the roll's memory.
        """
    @property
    def bar_steps(self) -> int:
        ...
    @property
    def binary(self) -> bool:
        """
        True when cells are 0/1 (array dtype bool).
        """
    @property
    def has_onsets(self) -> bool:
        ...
    @property
    def onsets(self) -> typing.Any:
        """
        The onset channel (uint8, 1 = a note starts) as a numpy view, or None.
        """
    @property
    def resolution(self) -> int:
        """
        Steps per quarter note.
        """
    @resolution.setter
    def resolution(self, arg1: int) -> None:
        ...
    @property
    def shape(self) -> tuple:
        ...
    @property
    def steps(self) -> int:
        ...
    @property
    def tempo(self) -> float:
        """
        Quarter notes per minute restored by to_score().
        """
    @tempo.setter
    def tempo(self, arg1: float) -> None:
        ...
    @property
    def time_signature(self) -> tuple:
        ...
    @time_signature.setter
    def time_signature(self, arg1: tuple[int, int]) -> None:
        ...
class MultiTrackRoll:
    """
    A (track, time, 128) stack of piano rolls.
    
    MultiTrackRoll(array, resolution=4, onsets=None, tempo=120.0, time_signature=(4, 4),
                   programs=None, is_drums=None, names=None)
    
    Indexing gives a PianoRoll that shares this roll's memory.
    """
    def __array__(self, dtype: typing.Any = None, copy: typing.Any = None) -> typing.Any:
        ...
    def __getitem__(self, arg0: int) -> PianoRoll:
        ...
    def __init__(self, array: typing.Any, resolution: int = 4, onsets: typing.Any = None, tempo: float = 120.0, time_signature: tuple[int, int] = (4, 4), programs: list[int] | None = None, is_drums: list[bool] | None = None, names: list[str] | None = None) -> None:
        ...
    def __len__(self) -> int:
        ...
    def __repr__(self) -> str:
        ...
    def copy(self) -> MultiTrackRoll:
        ...
    def merged(self, include_drums: bool = False) -> PianoRoll:
        """
        All tracks merged into one PianoRoll (cell = max over tracks; a copy).
        """
    def to_score(self, tempo: float | None = None, velocity: int | None = None, ticks_per_quarter: int = 480) -> Score:
        """
        The rolls as a Score with one track each.
        """
    @property
    def array(self) -> numpy.ndarray[typing.Any, numpy.dtype[typing.Any]]:
        """
        The cells as a (track, time, 128) numpy array sharing the roll's memory.
        """
    @property
    def binary(self) -> bool:
        ...
    @property
    def is_drums(self) -> list[bool]:
        ...
    @property
    def names(self) -> list[str]:
        ...
    @property
    def onsets(self) -> typing.Any:
        ...
    @property
    def programs(self) -> list[int]:
        ...
    @property
    def resolution(self) -> int:
        ...
    @property
    def shape(self) -> tuple:
        ...
    @property
    def steps(self) -> int:
        ...
    @property
    def tempo(self) -> float:
        ...
    @property
    def time_signature(self) -> tuple:
        ...
    @property
    def tracks(self) -> list[PianoRoll]:
        ...
class Synth:
    """
    Offline General MIDI synthesizer (FluidSynth) with one SoundFont loaded.
    
    render(score) returns float32 stereo audio (frames, 2) lasting the score's
    duration plus `tail` seconds. Renders are independent and deterministic.
    Each track gets its own channel (program from Track.program; drum tracks use
    the GM percussion bank, the first on channel 10).
    """
    def __init__(self, soundfont: typing.Any | None = None, sample_rate: int = 44100, gain: float = 0.5, tail: float = 1.0, reverb: bool = False, chorus: bool = False, polyphony: int = 256) -> None:
        ...
    def __repr__(self) -> str:
        ...
    def frames(self, score: Score) -> int:
        """
        Number of frames render(score) returns.
        """
    def render(self, score: Score) -> numpy.ndarray[typing.Any, numpy.dtype[numpy.float32]]:
        """
        Render a Score to a float32 numpy array of shape (frames, 2).
        """
    @property
    def channels(self) -> int:
        """
        audio channels (2: stereo)
        """
    @property
    def chorus(self) -> bool:
        ...
    @property
    def gain(self) -> float:
        """
        output gain (0..10)
        """
    @gain.setter
    def gain(self, arg1: float) -> None:
        ...
    @property
    def reverb(self) -> bool:
        ...
    @property
    def sample_rate(self) -> int:
        """
        Hz
        """
    @property
    def soundfont(self) -> str:
        """
        path of the loaded SoundFont
        """
    @property
    def tail(self) -> float:
        """
        seconds rendered after the last note
        """
    @tail.setter
    def tail(self, arg1: float) -> None:
        ...
class ParameterSet:
    """
    All learnable tensors of a model in one flat buffer. Items are numpy
    views of the C++ memory (our layout: conv weights (kh, kw, in, out),
    linear weights (in, out)); state_dict() converts to PyTorch's.
    """
    def __contains__(self, arg0: str) -> bool:
        ...
    def __getitem__(self, name: str) -> numpy.ndarray[typing.Any, numpy.dtype[typing.Any]]:
        """
        The parameter as a writeable numpy view (our layout).
        """
    def __init__(self) -> None:
        ...
    def __len__(self) -> int:
        ...
    def add(self, name: str, shape: list[int], layout: str = 'same', trainable: bool = True) -> None:
        """
        Declare a zero-initialised parameter (before allocate()). layout: 'same',
        'conv_hwio' or 'linear_io'.
        """
    def allocate(self, seed: int = 0) -> None:
        ...
    def arrays(self) -> dict:
        """
        {name: writeable numpy view} in declaration order.
        """
    def grad(self, name: str) -> numpy.ndarray[typing.Any, numpy.dtype[typing.Any]]:
        """
        The parameter's gradient as a writeable numpy view.
        """
    def grads(self) -> numpy.ndarray[typing.Any, numpy.dtype[typing.Any]]:
        ...
    def layout(self, arg0: str) -> str:
        ...
    def load(self, path: str, strict: bool = True) -> dict:
        """
        Load a safetensors file. Returns {'loaded', 'missing', 'unexpected', 'metadata'}.
        """
    def load_state_dict(self, state_dict: dict, strict: bool = True) -> dict:
        """
        Set parameters from {name: array} in the twin's layout. Returns
        {'loaded', 'missing', 'unexpected'}; strict raises WeightsError on either.
        """
    def names(self) -> list[str]:
        ...
    def save(self, path: str, metadata: dict | None = None) -> None:
        """
        Save as safetensors in the twin's layout, atomically.
        """
    def state_dict(self) -> dict:
        """
        Copies in the PyTorch twin's layout (load with torch's load_state_dict).
        """
    def trainable(self, arg0: str) -> bool:
        ...
    def trainable_count(self) -> int:
        ...
    def values(self) -> numpy.ndarray[typing.Any, numpy.dtype[typing.Any]]:
        ...
    def zero_grad(self) -> None:
        ...
    @property
    def allocated(self) -> bool:
        ...
    @property
    def size(self) -> int:
        """
        Elements of the flat buffer (with alignment padding).
        """
class Adam:
    """
    Adam (L2 weight decay) or AdamW (decoupled) over a ParameterSet, as torch.optim.
    """
    lr: float
    def __init__(self, params: ParameterSet, lr: float = 0.001, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-08, weight_decay: float = 0.0, decoupled_weight_decay: bool = False) -> None:
        ...
    def load_state(self, path: str) -> None:
        ...
    def reset(self) -> None:
        ...
    def save_state(self, path: str, metadata: dict | None = None) -> None:
        ...
    def step(self) -> None:
        ...
    @property
    def step_count(self) -> int:
        ...
class Schedule:
    def __call__(self, step: int) -> float:
        ...
    def lr(self, step: int) -> float:
        """
        Learning rate for the step-th update (1-based).
        """
class ConstantSchedule(Schedule):
    def __init__(self, lr: float) -> None:
        ...
class StepSchedule(Schedule):
    def __init__(self, lr: float, every: int, gamma: float) -> None:
        ...
class InverseSqrtSchedule(Schedule):
    def __init__(self, peak: float, warmup: int, floor: float) -> None:
        """
        peak * t / warmup up to warmup, then max(floor, peak * sqrt(warmup / t)).
        """
class WindowSet:
    """
    Fixed-size (steps x 128) binary piano-roll windows: the AR-CNN's training data.
    """
    def __init__(self, array: numpy.ndarray[typing.Any, numpy.dtype[typing.Any]]) -> None:
        """
        Windows from an (n, steps, 128) array (nonzero = note).
        """
    def __len__(self) -> int:
        ...
    def __repr__(self) -> str:
        ...
    @property
    def array(self) -> numpy.ndarray[typing.Any, numpy.dtype[numpy.uint8]]:
        """
        All windows as an (n, steps, 128) uint8 array (a copy).
        """
    @property
    def steps(self) -> int:
        ...
class PairBatcher:
    """
    Shuffled batches of AR-CNN training pairs (input, label) from windows.
    """
    def __init__(self, windows: WindowSet, variants: int = 8, min_add_fraction: float = 0.01, max_add_fraction: float = 0.015, max_transpose: int = 0, seed: int = 0, shuffle: bool = True) -> None:
        ...
    def batch(self, index: int, batch_size: int) -> tuple:
        """
        Batch `index` of the current epoch: (input, label), float32 arrays (n, steps, 128).
        """
    def batches_per_epoch(self, batch_size: int) -> int:
        ...
    def start_epoch(self, epoch: int) -> None:
        ...
    @property
    def pairs_per_epoch(self) -> int:
        ...
class ARCNN:
    """
    The AR-CNN melody editor (a U-Net over 128 x 128 piano-roll windows).
    
    ARCNN(levels=4, base_filters=16, bottleneck_filters=0, dropout=0.5, bn_momentum=0.9,
    seed=0): a fresh network (the shipped compact default; levels=5, base_filters=32,
    bn_momentum=0.99 is the reference's 31.5M-parameter network). ARCNN.pretrained() loads the shipped model,
    ARCNN.load(path) any saved one. edit() rewrites a melody; fit() trains.
    """
    @staticmethod
    def default_weights_path() -> str:
        """
        Where the C++ side finds the shipped model: $PARTITA_ARCNN_WEIGHTS, next to the program, the install data dir, then the source tree.
        """
    @staticmethod
    def load(path: typing.Any) -> ARCNN:
        """
        A network rebuilt from a weights file's config and loaded with its weights.
        """
    @classmethod
    def pretrained(cls = None):
        """
        The shipped AR-CNN model (trained on the JSB chorales; see docs/arcnn.md).
        """
    def __init__(self, levels: int = 4, base_filters: int = 16, bottleneck_filters: int = 0, dropout: float = 0.5, bn_momentum: float = 0.8999999761581421, seed: int = 0) -> None:
        ...
    def __repr__(self) -> str:
        ...
    def _fit(self, train: WindowSet, valid: WindowSet, epochs: int, batch_size: int, lr: float, seed: int, variants: int, transpose: int, checkpoint_dir: str, resume: bool, max_steps_per_epoch: int, max_valid_batches: int, on_step: typing.Any, on_epoch: typing.Any) -> dict:
        """
        Low-level fit (see partita.arcnn.fit, which adds the progress bar).
        """
    def edit(self, melody: Score, max_remove_pct: float = 100.0, max_add: int = 500, iterations: int = 100, creative_risk: float = 1.0, seed: int = 0, track: int = -1, return_stats: bool = False) -> typing.Any:
        """
        Rewrite `track` of `melody` (-1: the first track with notes) as the Music Studio does.
        
        max_remove_pct: maximum input notes to remove (%), max_add: maximum notes to add,
        iterations: sampling iterations (one toggle each), creative_risk: temperature.
        Inputs longer than 8 bars are edited window by window, shorter ones padded. Returns a
        Score with the input's tempo map, meters, program and timing and one track at velocity
        100 (and per-window statistics with return_stats=True).
        """
    def edit_roll(self, roll, max_remove_pct = 100.0, max_add = 500, iterations = 100, creative_risk = 1.0, seed = 0):
        """
        Edit a (time, 128) roll on the 16th-note grid: a numpy array, or a partita.PianoRoll
            whose resolution must be 4 steps per quarter (InvalidArgument otherwise).
        """
    def fit(self, train, valid = None, *, epochs = 10, batch_size = 32, lr = 0.001, seed = 0, variants = 8, transpose = 0, checkpoint_dir = None, resume = False, max_steps_per_epoch = 0, max_valid_batches = 0, callback = None, progress = True):
        """
        Train on ``train`` windows (a WindowSet), validating on ``valid`` each epoch.
        
            callback(step_info: dict) is called after every optimizer step (return False to
            stop). With ``checkpoint_dir``, last/best weights and the optimizer state are written
            atomically each epoch; ``resume=True`` continues from them. Returns a dict with
            ``history`` (one dict per epoch), ``best_valid_loss``, ``best_epoch``, ``stopped``.
            
        """
    def forward(self, x: numpy.ndarray[typing.Any, numpy.dtype[typing.Any]]) -> numpy.ndarray[typing.Any, numpy.dtype[numpy.float32]]:
        """
        Logits (n, steps, 128) for rolls (n, steps, 128) in the current mode.
        """
    def load_weights(self, path: typing.Any) -> None:
        ...
    def loss(self, x: numpy.ndarray[typing.Any, numpy.dtype[typing.Any]], label: numpy.ndarray[typing.Any, numpy.dtype[typing.Any]]) -> float:
        """
        KL loss (per-sample, batch mean) in eval mode, no gradients.
        """
    def save(self, path: typing.Any, metadata: dict[str, str] = {}) -> None:
        """
        Save weights (PyTorch twin's layout) and config to a safetensors file, atomically.
        """
    @property
    def config(self) -> dict:
        ...
    @property
    def parameter_count(self) -> int:
        """
        trainable parameters
        """
    @property
    def training(self) -> bool:
        """
        train mode (dropout on, batch statistics) or eval mode
        """
    @training.setter
    def training(self, arg1: bool) -> None:
        ...
def AdamW(params: ParameterSet, lr: float = 0.001, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-08, weight_decay: float = 0.01) -> Adam:
    """
    An Adam with decoupled weight decay (torch.optim.AdamW defaults).
    """
def clip_grad_norm(params: ParameterSet, max_norm: float) -> float:
    """
    Scale trainable gradients to global L2 norm <= max_norm; returns the norm before.
    """
def cpu_info() -> dict:
    """
    The SIMD level in use, the highest one this CPU supports, and the features detected.
    """
def default_jsb_path() -> str:
    """
    Path of the bundled Jsb16thSeparated.json.
    """
def default_soundfont_paths() -> list[str]:
    """
    The system paths find_soundfont() looks at, in order.
    """
def find_soundfont(path: typing.Any | None = None) -> str:
    """
    The SoundFont to use: `path` if given, else $PARTITA_SOUNDFONT, else the first one
    installed at a known system path (Debian: /usr/share/sounds/sf2/FluidR3_GM.sf2 from
    fluid-soundfont-gm). Raises RenderError saying what to install when none is found.
    """
def from_pianoroll(roll: typing.Any, resolution: int | None = None, tempo: float | None = None, program: int | None = None, velocity: int | None = None, ticks_per_quarter: int = 480, onsets: typing.Any = None, is_drum: bool | None = None, name: str | None = None) -> Score:
    """
    Build a Score from a piano roll.
    
    roll: PianoRoll, MultiTrackRoll, or a numpy array (time, 128) / (track, time, 128)
        of uint8 velocities or bool.
    resolution: steps per quarter (default: the roll's own; 4 for a bare array).
    tempo: quarter notes per minute (default: the roll's, 120 for a bare array).
    program: General MIDI program (default: the roll's, 0 for a bare array).
    velocity: velocity of every note (default: the cell values; 100 for binary rolls).
    ticks_per_quarter: resolution of the returned Score (default 480).
    onsets: onset array for a bare `roll` array (non-zero = a note starts).
    Each run of non-zero cells on a pitch is one note, split where onsets are set.
    """
def grad_norm(params: ParameterSet) -> float:
    ...
def jsb_windows(split: str = 'train', path: typing.Any = None, window: int = 128, hop: int = 64) -> WindowSet:
    """
    Windows of one split of the JSB chorales.
    """
def load_jsb_chorales(path: typing.Any = None) -> dict:
    """
    The JSB chorales (bundled file by default) as {'train','valid','test'}: lists of (time, 128) uint8 arrays, voices merged.
    """
def load_safetensors(path: str) -> tuple:
    """
    Read a safetensors file with partita's reader: returns (dict {name: numpy array},
    metadata dict). BF16 tensors come back as float32. Raises WeightsError on a
    malformed file (the message names the file, the tensor and the problem).
    """
def make_windows(rolls: list, window: int = 128, hop: int = 64) -> WindowSet:
    """
    Cut (time, 128) rolls into windows every `hop` steps (short rolls padded, empty windows skipped).
    """
def midi_folder_windows(folder: typing.Any, window: int = 128, hop: int = 64) -> tuple:
    """
    Windows from every MIDI file under `folder`: (WindowSet, used files, skipped 'path: reason').
    """
def num_threads() -> int:
    """
    Threads used by partita's kernels.
    """
def read_midi(path: typing.Any) -> Score:
    """
    Read a Standard MIDI File (str or os.PathLike) into a Score.
    """
def read_midi_bytes(data: typing_extensions.Buffer, name: str = '<bytes>') -> Score:
    """
    Read a Standard MIDI File from bytes into a Score.
    """
def read_wav(path: typing.Any) -> tuple:
    """
    Read an audio file: returns (float32 array (frames, channels), sample_rate).
    """
def save_safetensors(path: str, tensors: dict, metadata: dict | None = None) -> None:
    """
    Write a dict {name: numpy array} (float16/32/64, (u)int8-64, bool) to a safetensors
    file, atomically. `metadata` is a dict of str -> str; "partita.format": "1" is added.
    """
def set_num_threads(n: int) -> None:
    """
    Set the number of threads used by partita's kernels.
    """
def set_simd_level(level: str) -> None:
    """
    Use 'avx512', 'avx2' or 'generic' kernels from now on (InvalidArgument if the CPU lacks the level); 'auto' goes back to the start-up choice.
    """
def simd_level() -> str:
    """
    SIMD level partita's kernels use now: 'avx512', 'avx2' or 'generic' (chosen at run time from the CPU; PARTITA_SIMD lowers it).
    """
def split_windows(windows: WindowSet, valid_fraction: float = 0.1, seed: int = 0) -> tuple[WindowSet, WindowSet]:
    """
    Seeded random (train, valid) split of a WindowSet.
    """
def to_multitrack(score: Score, resolution: int = 4, binarize: bool = False, length: int | None = None, bars: int | None = None, whole_bars: bool = False, onsets: bool = False) -> MultiTrackRoll:
    """
    One roll per track (drums included), all of one length.
    """
def to_pianoroll(score: Score, resolution: int = 4, track: int | None = None, binarize: bool = False, length: int | None = None, bars: int | None = None, whole_bars: bool = False, onsets: bool = False, include_drums: bool = False) -> PianoRoll:
    """
    Lay the score on a grid of `resolution` steps per quarter note.
    
    track: index of the track to roll; None merges all tracks (cell = max velocity;
        drum tracks only with include_drums=True).
    binarize: cells 0/1 (the array has dtype bool) instead of velocities (uint8).
    length: exact number of steps (pads with silence or cuts notes); bars: exact
        number of bars of the first time signature; whole_bars: round the natural
        length (last note end) up to whole bars.
    onsets: also fill the onset channel (1 where a note starts), so repeated notes
        survive the way back.
    Quantization: start and end ticks round to the nearest step (halves up), each
    note at least one step. The first tempo and time signature are kept in the roll.
    """
def write_midi(score: Score, path: typing.Any) -> None:
    """
    Write a Score as a format-1 MIDI file (atomically).
    """
def write_midi_bytes(score: Score) -> bytes:
    """
    Encode a Score as format-1 MIDI file bytes.
    """
def write_wav(path: typing.Any, audio: numpy.ndarray[typing.Any, numpy.dtype[numpy.float32]], sample_rate: int, subtype: str = 'PCM_16') -> None:
    """
    Write float audio (frames, channels) or (frames,) as a WAV file, atomically.
    subtype 'PCM_16' (values outside [-1, 1] are clipped) or 'FLOAT' (32-bit, kept as is).
    """
__version__: str = '0.1.0'
