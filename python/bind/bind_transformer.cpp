// Transformer-XL bindings: the config, the fit and extend options and the extend
// report as typed records, and the model (construct, load, pretrained, save,
// extend a Score's track, evaluate NLL, fit with Python callbacks and a progress
// bar, and the generation primitives begin_generation / prime / next_logits on
// numpy arrays), plus sample_token. Defaults shown to Python come from the C++
// structs (TransformerXLConfig, TransformerXLFitOptions, ExtendOptions). Long
// calls release the GIL; callbacks take it back only while they run.
#include <optional>
#include <variant>

#include <pybind11/functional.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <pybind11/typing.h>

#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "partita/core/error.hpp"
#include "partita/data/performance_corpus.hpp"
#include "partita/models/transformer_xl.hpp"
#include "partita/music/midi.hpp"
#include "fit_hooks.hpp"
#include "nn_arrays.hpp"
#include "path_arg.hpp"
#include "records.hpp"
#include "registry.hpp"
#include "token_arrays.hpp"

namespace py = pybind11;
using namespace pybind11::literals;
using namespace partita;
using namespace partita::models;
using partita::py_bind::tokens_from_python;

namespace {

std::string fnum(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

// What fit and evaluate_nll read: a TokenStreams, a PerformanceSplit (its
// streams), or any iterable of token sequences (converted).
using StreamsArg = std::variant<const data::TokenStreams*, const data::PerformanceSplit*,
                                py::typing::Iterable<py::typing::Iterable<py::int_>>>;

// The streams `arg` names; a conversion lands in `holder`. Needs the GIL.
const data::TokenStreams& streams_of(const StreamsArg& arg, data::TokenStreams& holder, const std::string& who) {
  if (const auto* s = std::get_if<const data::TokenStreams*>(&arg)) {
    if (!*s) throw InvalidArgument(who + ": expected token streams, got None");
    return **s;
  }
  if (const auto* s = std::get_if<const data::PerformanceSplit*>(&arg)) {
    if (!*s) throw InvalidArgument(who + ": expected token streams, got None");
    return (*s)->streams;
  }
  holder.pieces.clear();
  for (py::handle p : std::get<2>(arg))
    holder.pieces.push_back(tokens_from_python(p, who + ": piece " + std::to_string(holder.pieces.size())));
  return holder;
}

ExtendOptions extend_options(double seconds, double temperature, double top_p, std::optional<int> top_k, int track,
                             std::uint64_t seed, std::int64_t max_tokens) {
  ExtendOptions o;
  o.seconds = seconds;
  o.temperature = temperature;
  o.top_p = top_p;
  o.top_k = top_k.value_or(0);
  o.track = track;
  o.seed = seed;
  o.max_tokens = max_tokens;
  return o;
}

using FloatArray = py::array_t<float, py::array::c_style | py::array::forcecast>;
// fit's callbacks (None or a callable), typed for the signatures and stubs.
using StepCallback = py::typing::Optional<py::typing::Callable<py::typing::Optional<bool>(const StepInfo&)>>;
using EpochCallback = py::typing::Optional<py::typing::Callable<void(const EpochInfo&)>>;

}  // namespace

PARTITA_BIND(transformer, 60) {
  const TransformerXLConfig dc = TransformerXLConfig::reference();
  const TransformerXLFitOptions df;
  const ExtendOptions de;

  auto config_cls = py::class_<TransformerXLConfig>(m, "TransformerXLConfig", R"doc(The Transformer-XL's architecture.

vocab (token ids 0..vocab-1; 310: the performance codec's), layers, heads of d_head,
d_model, d_inner (feed-forward width), dropout (embeddings, positions, attention output,
feed-forward, final hidden states), dropout_attention (attention probabilities), segment
(tokens per row and training step), memory (positions of memory kept per layer).
TransformerXLConfig() is TransformerXLConfig.reference() (9.2M parameters); medium() is the
shipped size, small() a network for tests.)doc")
      .def(py::init([](int vocab, int layers, int heads, int d_model, int d_head, int d_inner, float dropout,
                       float dropout_attention, int segment, int memory) {
             TransformerXLConfig c;
             c.vocab = vocab;
             c.layers = layers;
             c.heads = heads;
             c.d_model = d_model;
             c.d_head = d_head;
             c.d_inner = d_inner;
             c.dropout = dropout;
             c.dropout_attention = dropout_attention;
             c.segment = segment;
             c.memory = memory;
             c.validate("TransformerXLConfig");
             return c;
           }),
           "vocab"_a = dc.vocab, "layers"_a = dc.layers, "heads"_a = dc.heads, "d_model"_a = dc.d_model,
           "d_head"_a = dc.d_head, "d_inner"_a = dc.d_inner, "dropout"_a = dc.dropout,
           "dropout_attention"_a = dc.dropout_attention, "segment"_a = dc.segment, "memory"_a = dc.memory)
      .def_static("reference", &TransformerXLConfig::reference,
                  "The reference network: 4 layers, 10 heads of 50, d_model 500, d_inner 1000 (9,170,310 "
                  "parameters).")
      .def_static("medium", &TransformerXLConfig::medium,
                  "The shipped size: 4 layers, 8 heads of 32, d_model 256, d_inner 1024, segment 128, memory 512.")
      .def_static("small", &TransformerXLConfig::small,
                  "A network for tests: 2 layers, 3 heads of 6, d_model 24, d_inner 40, segment 8, memory 16 "
                  "(16,266 parameters).")
      .def_readwrite("vocab", &TransformerXLConfig::vocab)
      .def_readwrite("layers", &TransformerXLConfig::layers)
      .def_readwrite("heads", &TransformerXLConfig::heads)
      .def_readwrite("d_model", &TransformerXLConfig::d_model)
      .def_readwrite("d_head", &TransformerXLConfig::d_head)
      .def_readwrite("d_inner", &TransformerXLConfig::d_inner)
      .def_readwrite("dropout", &TransformerXLConfig::dropout)
      .def_readwrite("dropout_attention", &TransformerXLConfig::dropout_attention)
      .def_readwrite("segment", &TransformerXLConfig::segment)
      .def_readwrite("memory", &TransformerXLConfig::memory)
      .def(
          "validate", [](const TransformerXLConfig& c) { c.validate("TransformerXLConfig"); },
          "InvalidArgument if a field is out of range.")
      .def("to_json", &TransformerXLConfig::to_json)
      .def_static(
          "from_json",
          [](const std::string& text) { return TransformerXLConfig::from_json(text, "TransformerXLConfig.from_json"); },
          "text"_a, "Parse to_json()'s output (WeightsError on anything else).")
      .def("__eq__", [](const TransformerXLConfig& a, const TransformerXLConfig& b) { return a == b; })
      .def("__repr__", [](const TransformerXLConfig& c) { return "TransformerXLConfig(" + c.to_json() + ")"; });
  py_bind::mapping_access(config_cls);

  py::class_<TransformerXLFitOptions>(m, "TransformerXLFitOptions",
                                      R"doc(The defaults of TransformerXL.fit (and `partita train transformer`).

Loop: epochs, max_steps (0: no step budget), max_steps_per_epoch (0: whole epochs), seed,
checkpoint_dir, resume. One step is one segment per batch row (batch_size rows, each walking a
piece's segments in order with its memory carried). Adam: lr (the peak, reached after
warmup_steps; then inverse square root decay down to lr_floor), beta1, beta2; gradients
clipped to a global norm of clip_norm (0: no clipping). Validation: the NLL per token over at
most max_valid_batches steps (0: all).)doc")
      .def(py::init<>())
      .def_readwrite("epochs", &TransformerXLFitOptions::epochs)
      .def_readwrite("max_steps", &TransformerXLFitOptions::max_steps)
      .def_readwrite("max_steps_per_epoch", &TransformerXLFitOptions::max_steps_per_epoch)
      .def_readwrite("seed", &TransformerXLFitOptions::seed)
      .def_readwrite("checkpoint_dir", &TransformerXLFitOptions::checkpoint_dir)
      .def_readwrite("resume", &TransformerXLFitOptions::resume)
      .def_readwrite("batch_size", &TransformerXLFitOptions::batch_size)
      .def_readwrite("lr", &TransformerXLFitOptions::lr)
      .def_readwrite("warmup_steps", &TransformerXLFitOptions::warmup_steps)
      .def_readwrite("lr_floor", &TransformerXLFitOptions::lr_floor)
      .def_readwrite("beta1", &TransformerXLFitOptions::beta1)
      .def_readwrite("beta2", &TransformerXLFitOptions::beta2)
      .def_readwrite("clip_norm", &TransformerXLFitOptions::clip_norm)
      .def_readwrite("max_valid_batches", &TransformerXLFitOptions::max_valid_batches)
      .def("__repr__", [](const TransformerXLFitOptions& o) {
        return "TransformerXLFitOptions(epochs=" + std::to_string(o.epochs) +
               ", batch_size=" + std::to_string(o.batch_size) + ", lr=" + fnum(o.lr) +
               ", warmup_steps=" + std::to_string(o.warmup_steps) + ", lr_floor=" + fnum(o.lr_floor) +
               ", clip_norm=" + fnum(o.clip_norm) + ", seed=" + std::to_string(o.seed) + ", ...)";
      });

  auto opts_cls = py::class_<ExtendOptions>(m, "ExtendOptions", R"doc(What TransformerXL.extend does with a track.

seconds: length of the continuation (its time shifts add up to this), temperature: logits are
divided by it before sampling (> 0), top_p: nucleus sampling, the smallest set of tokens
holding this probability (0 < p <= 1), top_k: also at most the k likeliest tokens (0: no
limit), track: the track to continue (-1: the first non-drum track with notes), seed,
max_tokens: a safety stop on generated tokens (0: 400 per requested second).
ExtendOptions() holds the defaults TransformerXL.extend and both command lines use.)doc")
      .def(py::init(&extend_options), "seconds"_a = de.seconds, "temperature"_a = de.temperature,
           "top_p"_a = de.top_p, "top_k"_a = py::none(), "track"_a = de.track, "seed"_a = de.seed,
           "max_tokens"_a = de.max_tokens)
      .def_readwrite("seconds", &ExtendOptions::seconds)
      .def_readwrite("temperature", &ExtendOptions::temperature)
      .def_readwrite("top_p", &ExtendOptions::top_p)
      .def_readwrite("top_k", &ExtendOptions::top_k, "0: no limit")
      .def_readwrite("track", &ExtendOptions::track)
      .def_readwrite("seed", &ExtendOptions::seed)
      .def_readwrite("max_tokens", &ExtendOptions::max_tokens, "0: 400 per requested second")
      .def("__repr__", [](const ExtendOptions& o) {
        return "ExtendOptions(seconds=" + fnum(o.seconds) + ", temperature=" + fnum(o.temperature) +
               ", top_p=" + fnum(o.top_p) + ", top_k=" + std::to_string(o.top_k) +
               ", track=" + std::to_string(o.track) + ", seed=" + std::to_string(o.seed) +
               ", max_tokens=" + std::to_string(o.max_tokens) + ")";
      });
  py_bind::mapping_access(opts_cls);

  auto report_cls =
      py::class_<ExtendReport>(m, "ExtendReport", "What one TransformerXL.extend call did.")
          .def_readonly("prime_tokens", &ExtendReport::prime_tokens, "<S> and the input track's events")
          .def_readonly("generated_tokens", &ExtendReport::generated_tokens)
          .def_readonly("generated_seconds", &ExtendReport::generated_seconds, "the continuation's time shifts")
          .def_readonly("notes_added", &ExtendReport::notes_added)
          .def_readonly("hit_max_tokens", &ExtendReport::hit_max_tokens,
                        "generation stopped at max_tokens before reaching `seconds`")
          .def_readonly("prime_ms", &ExtendReport::prime_ms)
          .def_readonly("generate_ms", &ExtendReport::generate_ms)
          .def("__repr__", [](const ExtendReport& r) {
            return "ExtendReport(prime_tokens=" + std::to_string(r.prime_tokens) +
                   ", generated_tokens=" + std::to_string(r.generated_tokens) +
                   ", generated_seconds=" + fnum(r.generated_seconds) + ", notes_added=" +
                   std::to_string(r.notes_added) + (r.hit_max_tokens ? ", hit_max_tokens=True" : "") +
                   ", prime_ms=" + fnum(r.prime_ms) + ", generate_ms=" + fnum(r.generate_ms) + ")";
          });
  py_bind::mapping_access(report_cls);

  m.def(
      "sample_token",
      [](const FloatArray& logits, double temperature, double top_p, std::optional<int> top_k, std::uint64_t seed,
         const std::vector<int>& banned) {
        if (logits.ndim() != 1 || logits.size() < 1)
          throw ShapeError("sample_token: logits must be a non-empty 1-D array, got " +
                           std::to_string(logits.ndim()) + " dimensions");
        Generator rng(seed);
        std::vector<std::pair<float, int>> scratch;
        return sample_token(logits.data(), static_cast<int>(logits.size()), temperature, top_p, top_k.value_or(0),
                            rng, banned, scratch);
      },
      "logits"_a, "temperature"_a = de.temperature, "top_p"_a = de.top_p, "top_k"_a = py::none(),
      "seed"_a = 0, "banned"_a = std::vector<int>(),
      "One token id drawn from `logits` (1-D) as TransformerXL.extend draws: divided by `temperature`, "
      "the top_k likeliest kept (None: all), then the smallest set reaching probability top_p, "
      "renormalised; ids in `banned` never come. Seeded: the same seed gives the same draw.");

  py::class_<TransformerXL>(m, "TransformerXL", R"doc(The Transformer-XL performance-event language model.

TransformerXL(config=TransformerXLConfig.reference(), seed=0): a freshly initialised network
(seeded), in training mode. TransformerXL.pretrained(name) loads a shipped model
("transformer", "transformer-jsb"), TransformerXL.load(path) any saved one, both in eval mode.
extend() continues a track of a Score; evaluate_nll() scores token streams; fit() trains;
begin_generation / prime / next_logits run the network token by token on a cache.)doc")
      .def(py::init([](const TransformerXLConfig& config, std::uint64_t seed) {
             config.validate("TransformerXL");
             py::gil_scoped_release rel;
             return std::make_unique<TransformerXL>(config, seed);
           }),
           "config"_a = dc, "seed"_a = 0)
      .def_static(
          "load",
          [](const py_bind::PathArg& path) {
            py::gil_scoped_release rel;
            return std::make_unique<TransformerXL>(TransformerXL::load(path.str));
          },
          "path"_a,
          "The network a model file describes (kind \"transformer_xl\"), in eval mode. WeightsError if "
          "the file is not such a model file.")
      .def_static(
          "pretrained",
          [](const std::string& name) {
            py::gil_scoped_release rel;
            return std::make_unique<TransformerXL>(TransformerXL::pretrained(name));
          },
          "name"_a = "transformer",
          "A shipped Transformer-XL by name (partita.models_available()): \"transformer\" (aliases "
          "\"transformer-corpus\", \"transformer_xl\") or \"transformer-jsb\", in eval mode. IoError when its "
          "file is not installed (partita.shipped_model_path(name) says where it was looked for).")
      .def_property_readonly_static(
          "DEFAULTS", [](const py::object&) { return TransformerXLFitOptions(); },
          "TransformerXLFitOptions(): the defaults of fit()")
      .def(
          "save",
          [](const TransformerXL& t, const py_bind::PathArg& path,
             const std::optional<std::map<std::string, std::string>>& extra) {
            std::vector<std::pair<std::string, std::string>> md;
            if (extra) md.assign(extra->begin(), extra->end());
            py::gil_scoped_release rel;
            t.save(path.str, md);
          },
          "path"_a, "extra"_a = py::none(),
          "Save a model file (kind \"transformer_xl\", the config, `extra` str -> str metadata) atomically.")
      .def_property_readonly(
          "config", [](const TransformerXL& t) { return t.config(); }, "the TransformerXLConfig (a copy)")
      .def_property_readonly("parameter_count", &TransformerXL::parameter_count, "trainable parameters")
      .def(
          "parameters", [](TransformerXL& t) -> nn::ParameterSet& { return t.parameters(); },
          py::return_value_policy::reference_internal,
          "The ParameterSet (numpy views of the weights; the PyTorch twin's names, e.g. \"word_emb.weight\").")
      .def_property("training", &TransformerXL::training, &TransformerXL::set_training,
                    "training mode (dropout on) or eval mode")
      .def(
          "train",
          [](TransformerXL& t, bool mode) -> TransformerXL& {
            t.set_training(mode);
            return t;
          },
          py::return_value_policy::reference, "mode"_a = true,
          "Set training mode (or eval mode with mode=False); returns the model.")
      .def(
          "eval",
          [](TransformerXL& t) -> TransformerXL& {
            t.set_training(false);
            return t;
          },
          py::return_value_policy::reference, "Set eval mode; returns the model.")
      .def(
          "extend",
          [](TransformerXL& t, const std::variant<Score, py_bind::PathArg>& score, double seconds, double temperature,
             double top_p, std::optional<int> top_k, int track, std::uint64_t seed, std::int64_t max_tokens,
             bool return_report) -> py::object {
            const ExtendOptions o = extend_options(seconds, temperature, top_p, top_k, track, seed, max_tokens);
            ExtendReport rep;
            Score out;
            {
              py::gil_scoped_release rel;
              if (const auto* path = std::get_if<py_bind::PathArg>(&score))
                out = t.extend(read_midi(path->str), o, &rep);
              else
                out = t.extend(std::get<Score>(score), o, &rep);
            }
            if (return_report) return py::make_tuple(out, rep);
            return py::cast(std::move(out));
          },
          "score"_a, "seconds"_a = de.seconds, "temperature"_a = de.temperature, "top_p"_a = de.top_p,
          "top_k"_a = py::none(), "track"_a = de.track, "seed"_a = de.seed, "max_tokens"_a = de.max_tokens,
          "return_report"_a = false,
          R"doc(Continue `track` of `score` (a Score or a MIDI file's path) for about `seconds`.

The model is primed with <S> and the whole track's performance events, then draws one token
at a time (logits / temperature, the top_k likeliest if given, then the nucleus holding top_p
of the probability) until the generated time shifts add up to `seconds` (or max_tokens
tokens: 0 means 400 per second). The continuation's notes are appended to that track (same
program and channel) from the input's last event on, on the input's tempo map; every other
track, the tempo map and the input's notes are unchanged. Seeded: the same seed and model
give the same notes. With return_report=True: (Score, ExtendReport). InvalidArgument for a
bad track (drums, no notes, out of range) or control. Defaults: partita.ExtendOptions().)doc")
      .def(
          "evaluate_nll",
          [](TransformerXL& t, const StreamsArg& streams, std::int64_t batch_size, std::int64_t max_batches) {
            data::TokenStreams holder;
            const data::TokenStreams& s = streams_of(streams, holder, "TransformerXL.evaluate_nll");
            py::gil_scoped_release rel;
            return t.evaluate_nll(s, batch_size, max_batches);
          },
          "streams"_a, "batch_size"_a = 16, "max_batches"_a = 0,
          "Negative log-likelihood per target token (nats) of every piece of `streams` (a TokenStreams, a "
          "PerformanceSplit or a list of token sequences), read as training reads them (rows of "
          "batch_size, the memory carried along each piece), in eval mode; at most max_batches steps "
          "(0: all). 0 when there is no target.")
      .def(
          "fit",
          [](TransformerXL& t, const StreamsArg& train, const std::optional<StreamsArg>& valid, int epochs,
             std::int64_t max_steps, std::int64_t max_steps_per_epoch, std::int64_t batch_size, double lr,
             std::int64_t warmup_steps, double lr_floor, double beta1, double beta2, double clip_norm,
             std::int64_t max_valid_batches, std::uint64_t seed, const std::optional<py_bind::PathArg>& checkpoint_dir,
             bool resume, StepCallback on_step, EpochCallback on_epoch, bool progress) {
            TransformerXLFitOptions o;
            o.epochs = epochs;
            o.max_steps = max_steps;
            o.max_steps_per_epoch = max_steps_per_epoch;
            o.batch_size = batch_size;
            o.lr = lr;
            o.warmup_steps = warmup_steps;
            o.lr_floor = lr_floor;
            o.beta1 = beta1;
            o.beta2 = beta2;
            o.clip_norm = clip_norm;
            o.max_valid_batches = max_valid_batches;
            o.seed = seed;
            o.checkpoint_dir = checkpoint_dir ? checkpoint_dir->str : std::string();
            o.resume = resume;
            data::TokenStreams train_holder, valid_holder;
            const data::TokenStreams& tr = streams_of(train, train_holder, "TransformerXL.fit: train");
            const data::TokenStreams& va =
                valid ? streams_of(*valid, valid_holder, "TransformerXL.fit: valid") : valid_holder;
            py_bind::FitHooks hooks(progress, std::move(on_step), std::move(on_epoch));
            FitCallbacks cb;
            hooks.install(cb);
            return hooks.run([&] { return t.fit(tr, va, o, cb); });
          },
          "train"_a, "valid"_a = py::none(), py::kw_only(), "epochs"_a = df.epochs, "max_steps"_a = df.max_steps,
          "max_steps_per_epoch"_a = df.max_steps_per_epoch, "batch_size"_a = df.batch_size, "lr"_a = df.lr,
          "warmup_steps"_a = df.warmup_steps, "lr_floor"_a = df.lr_floor, "beta1"_a = df.beta1,
          "beta2"_a = df.beta2, "clip_norm"_a = df.clip_norm, "max_valid_batches"_a = df.max_valid_batches,
          "seed"_a = df.seed, "checkpoint_dir"_a = py::none(), "resume"_a = df.resume, "on_step"_a = py::none(),
          "on_epoch"_a = py::none(), "progress"_a = true,
          R"doc(Train on the `train` pieces, validating on `valid` (may be None) each epoch.

Both are a TokenStreams, a PerformanceSplit or a list of token sequences (ids below
config.vocab). One step is one segment per batch row, each row walking a piece's segments in
order with its memory carried; an epoch is one pass over the pieces in a seeded order. The
step losses are 'loss' (mean cross-entropy of the step's targets), 'lr' and 'grad_norm'
(before clipping); the validation loss is the NLL per token. The C++ loop runs without the
GIL. on_step(StepInfo) after every step (return False to stop), on_epoch(EpochInfo) after
every epoch. With `checkpoint_dir`, last/best model files and the optimizer state are
written atomically each epoch; resume=True continues from them exactly. progress=True shows
a tqdm bar. The model's mode is restored afterwards. Defaults: TransformerXL.DEFAULTS.
Returns a FitResult.)doc")
      .def("begin_generation", &TransformerXL::begin_generation, "batch"_a = 1, "memory"_a = 0,
           "Start `batch` generated sequences with an empty context; the cache keeps the last `memory` "
           "positions (0: config.memory). Runs in eval mode's arithmetic whatever the mode; the weights "
           "must not change until the next begin_generation.")
      .def(
          "prime",
          [](TransformerXL& t,
             const py::typing::Union<py::typing::Iterable<py::int_>, py::typing::Iterable<py::typing::Iterable<py::int_>>>&
                 tokens) {
            // 1-D: the same tokens for every row; 2-D: (batch, n), one row per sequence.
            const char* who = "TransformerXL.prime";
            py::array a = py::module_::import("numpy").attr("asarray")(tokens);
            std::vector<std::int32_t> row;
            data::TokenBatch block;
            const bool rows = a.ndim() == 2;
            if (rows) {
              block.batch = a.shape(0);
              block.time = a.shape(1);
              block.ids = tokens_from_python(a.attr("reshape")(-1), who);
            } else {
              row = tokens_from_python(a, who);
            }
            Tensor logits;
            {
              py::gil_scoped_release rel;
              logits = rows ? t.prime(block) : t.prime(row);  // a copy: the model reuses its buffer
            }
            return py_bind::array_from_tensor(logits);
          },
          "tokens"_a,
          "Feed `tokens` to every sequence, `segment` at a time: a 1-D sequence (the same for every row) or "
          "a (batch, n) integer array. Returns the logits (batch, vocab) of the token after the last one "
          "fed, float32.")
      .def(
          "next_logits",
          [](TransformerXL& t, const py::typing::Iterable<py::int_>& tokens) {
            const std::vector<std::int32_t> ids = tokens_from_python(tokens, "TransformerXL.next_logits");
            Tensor logits;
            {
              py::gil_scoped_release rel;
              logits = t.next_logits(ids);
            }
            return py_bind::array_from_tensor(logits);
          },
          "tokens"_a,
          "Feed one token per sequence (a 1-D sequence of batch ids); returns the logits (batch, vocab) of "
          "the next token, float32.")
      .def_property_readonly("generated_length", &TransformerXL::generated_length,
                             "positions fed since begin_generation")
      .def("__repr__", [](const TransformerXL& t) {
        const TransformerXLConfig& c = t.config();
        return "TransformerXL(layers=" + std::to_string(c.layers) + ", heads=" + std::to_string(c.heads) +
               ", d_model=" + std::to_string(c.d_model) + ", segment=" + std::to_string(c.segment) +
               ", memory=" + std::to_string(c.memory) + ", " + std::to_string(t.parameter_count()) +
               " parameters" + (t.training() ? ", training" : ", eval") + ")";
      });
}
