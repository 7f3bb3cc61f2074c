// partita-cli: the C++ command line (mirrors the Python `partita` command):
// `partita-cli edit IN.mid -o OUT.mid [controls]` (AR-CNN), `partita-cli accompany
// IN.mid -o OUT.mid [options]` (GAN), `partita-cli models`, `partita-cli train arcnn
// --out DIR [options]` (scripts/train_arcnn.sh) and `partita-cli train gan --out DIR
// [options]` (scripts/train_gan.sh). Every default comes from the library
// (EditControls, ArcnnFitOptions, ArcnnConfig::compact(), GanFitOptions,
// GanConfig::compact(), AccompanyOptions, the shipped-model registry).
#include <cstdio>
#include <cstdlib>
#include <chrono>
#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "partita/core/error.hpp"
#include "partita/core/gemm.hpp"
#include "partita/core/threads.hpp"
#include "partita/data/jsb_chorales.hpp"
#include "partita/data/jsb_multitrack.hpp"
#include "partita/data/multitrack_folder.hpp"
#include "partita/data/multitrack_windows.hpp"
#include "partita/data/performance_corpus.hpp"
#include "partita/data/midi_folder.hpp"
#include "partita/data/windows.hpp"
#include "partita/models/arcnn.hpp"
#include "partita/models/gan.hpp"
#include "partita/models/gan_eval.hpp"
#include "partita/models/registry.hpp"
#include "partita/models/transformer_eval.hpp"
#include "partita/models/transformer_xl.hpp"
#include "partita/music/midi.hpp"

using namespace partita;

namespace {

// --key value options after the positional arguments.
struct Args {
  std::vector<std::string> positional;
  std::map<std::string, std::string> opt;
  std::string get(const std::string& k, const std::string& def) const {
    auto it = opt.find(k);
    return it == opt.end() ? def : it->second;
  }
  bool flag(const std::string& k) const { return opt.count(k) != 0; }
};

Args parse(int argc, char** argv, int first) {
  Args a;
  for (int i = first; i < argc; ++i) {
    std::string s = argv[i];
    if (s == "-o") s = "--output";
    if (s.rfind("--", 0) == 0) {
      std::string key = s.substr(2), val = "1";
      auto eq = key.find('=');
      if (eq != std::string::npos) val = key.substr(eq + 1), key = key.substr(0, eq);
      else if (key != "resume" && key != "help" && key != "polyphonic" && key != "continuations" &&
               key != "keep-epochs" && key != "keep-input-fragments" && i + 1 < argc)
        val = argv[++i];
      a.opt[key] = val;
    } else {
      a.positional.push_back(s);
    }
  }
  // Every command: the precision of the matrix products (partita/core/gemm.hpp).
  if (a.flag("matmul-precision")) set_matmul_precision(parse_matmul_precision(a.get("matmul-precision", "")));
  return a;
}

// For the training banners: nothing for float32 products (the default), else
// what --matmul-precision asked for and whether this CPU runs it.
std::string products_note() {
  if (matmul_precision() == MatmulPrecision::Float32) return "";
  return bf16_matmul_active() ? ", bfloat16 products" : ", bfloat16 products asked (float32 here: they need AVX-512 with BF16)";
}

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

int usage() {
  const models::EditControls e;
  const models::ArcnnFitOptions f;
  const models::ArcnnConfig c = models::ArcnnConfig::compact();
  const models::GanConfig gc = models::GanConfig::compact();
  const models::GanFitOptions gf;
  const models::ContinuationOptions ce;
  std::string text =
      "usage:\n"
      "  partita-cli edit IN.mid -o OUT.mid [--max-remove-pct " + num(e.max_remove_pct) + "] [--max-add " +
      std::to_string(e.max_add) + "]\n"
      "      [--iterations " + std::to_string(e.iterations) + "] [--creative-risk " + num(e.creative_risk) +
      "] [--resolve-iterations " + std::to_string(e.resolve_iterations) + "]\n"
      "      [--keep-input-fragments]\n"
      "      [--seed " + std::to_string(e.seed) + "] [--track -1]\n"
      "      [--weights FILE | --model " + models::default_shipped_model("arcnn").name + "] [--threads N]\n"
      "  partita-cli accompany IN.mid -o OUT.mid [--model chorale | --weights FILE] [--track -1]\n"
      "      [--programs P1,P2,P3] [--seed 0] [--threshold 0] [--leap-penalty " + num(models::AccompanyOptions().leap_penalty) + "]\n"
      "      [--min-note-steps 1] [--polyphonic] [--threads N]\n"
      "  partita-cli extend IN.mid -o OUT.mid [--model transformer | --weights FILE] [--seconds 30]\n"
      "      [--temperature 0.95] [--top-p 0.95] [--top-k 0] [--track -1] [--seed 0] [--threads N]\n"
      "  partita-cli eval gan [--model chorale | --weights FILE] [--midi-dir DIR --melody-track 0] [--seed 0]\n"
      "      [--split test|valid] [--threshold 0] [--leap-penalty " + num(models::AccompanyOptions().leap_penalty) + "]\n"
      "      [--min-note-steps 1] [--polyphonic]\n"
      "      (held-out pieces: the JSB test split, or every 10th file of DIR; metrics of real, generated\n"
      "       and baseline parts as a Markdown table)\n"
      "  partita-cli eval transformer [--model transformer | --weights FILE] [--data jsb[,DIR...]] [--split test]\n"
      "      [--continuations [--prime-seconds " + num(ce.prime_seconds) + "] [--continuation-seconds " +
      num(ce.continuation_seconds) + "] [--markov-order " + std::to_string(ce.markov_order) + "] [--seed " +
      std::to_string(ce.seed) + "]\n"
      "       [--max-pieces " + std::to_string(ce.max_pieces) + "] [--temperature " + num(ce.temperature) +
      "] [--top-p " + num(ce.top_p) + "] [--top-k " + std::to_string(ce.top_k) + "]] [--threads 2]\n"
      "      (NLL per token and per second of the split; --continuations: the Markov baseline's NLL\n"
      "       beside it, and the overlapping areas of the continuations' features, docs/transformer-eval.md)\n"
      "  partita-cli models                  (the shipped models and where their files are)\n"
      "  partita-cli train arcnn --out DIR [--epochs " + std::to_string(f.epochs) + "] [--batch-size " +
      std::to_string(f.batch_size) + "] [--lr " + num(f.lr) + "]\n"
      "      [--levels " + std::to_string(c.levels) + "] [--base-filters " + std::to_string(c.base_filters) +
      "] [--dropout " + num(c.dropout) + "] [--bn-momentum " + num(c.bn_momentum) + "] [--seed " +
      std::to_string(f.seed) + "]\n"
      "      [--valid-fraction 0.1] [--transpose " + std::to_string(f.pairs.max_transpose) +
      "] [--midi-dir DIR] [--threads 1]\n"
      "      [--variants " + std::to_string(f.pairs.variants) + "] [--max-steps-per-epoch " +
      std::to_string(f.max_steps_per_epoch) + "] [--max-steps " + std::to_string(f.max_steps) + "] [--resume]\n"
      "  partita-cli train gan --out DIR [--style chorale|quartet] [--midi-dir DIR --melody-track 0]\n"
      "      [--filters " + std::to_string(gc.filters) + "] [--latent " + std::to_string(gc.latent_channels) +
      "] [--melody-chroma] [--epochs " + std::to_string(gf.epochs) + "] [--max-steps N] [--batch-size " + std::to_string(gf.batch_size) +
      "]\n      [--lr " + num(gf.lr) + "] [--critic-steps " + std::to_string(gf.critic_steps) + "] [--transpose " +
      std::to_string(gf.max_transpose) + "] [--seed " + std::to_string(gf.seed) + "] [--threads 2] [--resume]\n";
  const models::TransformerXLFitOptions tf;
  text += "  partita-cli train transformer --out DIR [--data jsb[,DIR...]] [--config reference|medium|small]\n"
          "      [--layers N --heads N --d-model N --d-head N --d-inner N --segment N --memory N --dropout X]\n"
          "      [--epochs " + std::to_string(tf.epochs) + "] [--max-steps N] [--batch-size " + std::to_string(tf.batch_size) +
          "] [--lr " + num(tf.lr) + "] [--warmup " + std::to_string(tf.warmup_steps) + "] [--lr-floor " + num(tf.lr_floor) +
          "]\n      [--augment 1] [--transpose 3] [--jsb-qpm 100] [--seed 0] [--threads 2] [--resume | --init FILE]\n"
          "      [--keep-epochs]\n"
          "every command also takes --matmul-precision float32|bfloat16 (default: float32, or\n"
          "PARTITA_MATMUL_PRECISION): bfloat16 products with float32 sums where the CPU has AVX512_BF16\n";
  std::fputs(text.c_str(), stderr);
  return 2;
}

// Peak resident set of this process in MB (Linux /proc/self/status VmHWM; -1 elsewhere).
double peak_rss_mb() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::atof(line.c_str() + 6) / 1024.0;
  return -1.0;
}

int cmd_edit(const Args& a) {
  if (a.positional.size() != 1 || !a.flag("output")) return usage();
  if (a.flag("threads")) set_num_threads(std::stoi(a.get("threads", "1")));
  models::EditControls c;  // the library's defaults unless given
  if (a.flag("max-remove-pct")) c.max_remove_pct = std::stod(a.get("max-remove-pct", ""));
  if (a.flag("max-add")) c.max_add = std::stoi(a.get("max-add", ""));
  if (a.flag("iterations")) c.iterations = std::stoi(a.get("iterations", ""));
  if (a.flag("creative-risk")) c.creative_risk = std::stod(a.get("creative-risk", ""));
  if (a.flag("resolve-iterations")) c.resolve_iterations = std::stoi(a.get("resolve-iterations", ""));
  if (a.flag("keep-input-fragments")) c.keep_input_fragments = true;
  if (a.flag("seed")) c.seed = std::stoull(a.get("seed", ""));
  models::ARCNN m = a.flag("weights")
                        ? models::ARCNN::load(a.get("weights", ""))
                        : models::ARCNN::pretrained(a.get("model", models::default_shipped_model("arcnn").name));
  Score in = read_midi(a.positional[0]);
  Score out = m.edit(in, c, std::stoi(a.get("track", "-1")));
  write_midi(out, a.get("output", ""));
  std::printf("%s: %zu notes in, %zu notes out -> %s (peak RSS %.1f MB)\n", a.positional[0].c_str(),
              in.note_count(), out.note_count(), a.get("output", "").c_str(), peak_rss_mb());
  return 0;
}

int cmd_train_arcnn(const Args& a) {
  if (!a.flag("out")) return usage();
  set_num_threads(std::stoi(a.get("threads", "1")));
  models::ArcnnConfig cfg = models::ArcnnConfig::compact();
  cfg.levels = std::stoi(a.get("levels", std::to_string(cfg.levels)));
  cfg.base_filters = std::stoi(a.get("base-filters", std::to_string(cfg.base_filters)));
  cfg.dropout = std::stof(a.get("dropout", std::to_string(cfg.dropout)));
  cfg.bn_momentum = std::stof(a.get("bn-momentum", std::to_string(cfg.bn_momentum)));
  models::ArcnnFitOptions o;  // the library's defaults unless given
  if (a.flag("epochs")) o.epochs = std::stoi(a.get("epochs", ""));
  if (a.flag("batch-size")) o.batch_size = std::stoll(a.get("batch-size", ""));
  if (a.flag("lr")) o.lr = std::stod(a.get("lr", ""));
  if (a.flag("seed")) o.seed = std::stoull(a.get("seed", ""));
  if (a.flag("transpose")) o.pairs.max_transpose = std::stoi(a.get("transpose", ""));
  if (a.flag("variants")) o.pairs.variants = std::stoi(a.get("variants", ""));
  o.checkpoint_dir = a.get("out", "");
  o.resume = a.flag("resume");
  if (a.flag("max-steps-per-epoch")) o.max_steps_per_epoch = std::stoll(a.get("max-steps-per-epoch", ""));
  if (a.flag("max-steps")) o.max_steps = std::stoll(a.get("max-steps", ""));
  std::vector<PianoRoll> rolls;
  if (a.flag("midi-dir")) {
    data::MidiFolderReport rep;
    rolls = data::load_midi_folder(a.get("midi-dir", ""), 4, &rep);
    for (const auto& s : rep.skipped) std::fprintf(stderr, "skipped %s\n", s.c_str());
  } else {
    rolls = data::load_jsb_chorales(a.get("jsb", data::default_jsb_path())).train;
  }
  auto all = data::make_windows(rolls, 128, 64);
  auto [train, valid] = data::split_windows(all, std::stod(a.get("valid-fraction", "0.1")), o.seed);
  models::ARCNN m(cfg, o.seed);
  std::printf("train arcnn: config %s, %lld parameters, %lld train / %lld valid windows, %d threads%s\n",
              cfg.to_json().c_str(), static_cast<long long>(m.parameter_count()),
              static_cast<long long>(train.count()), static_cast<long long>(valid.count()),
              num_threads(), products_note().c_str());
  std::fflush(stdout);
  models::FitCallbacks cb;
  cb.on_step = [](const models::StepInfo& s) {
    if (s.step % 10 == 0 || s.step + 1 == s.steps_in_epoch) {
      std::printf("epoch %d step %lld/%lld loss %.4f\n", s.epoch, static_cast<long long>(s.step + 1),
                  static_cast<long long>(s.steps_in_epoch), s.loss);
      std::fflush(stdout);
    }
    return true;
  };
  cb.on_epoch = [](const models::EpochInfo& e) {
    std::printf("epoch %d done: train_loss %.4f valid_loss %.4f%s (%.0f s)\n", e.epoch, e.train_loss,
                e.valid_loss, e.best ? " best" : "", e.seconds);
    std::fflush(stdout);
  };
  auto r = m.fit(train, valid, o, cb);
  std::printf("best valid_loss %.4f at epoch %d\n", r.best_valid_loss, r.best_epoch);
  return 0;
}

std::vector<int> parse_ints(const std::string& s) {
  std::vector<int> v;
  size_t i = 0;
  while (i < s.size()) {
    size_t j = s.find(',', i);
    if (j == std::string::npos) j = s.size();
    v.push_back(std::stoi(s.substr(i, j - i)));
    i = j + 1;
  }
  return v;
}

int cmd_accompany(const Args& a) {
  if (a.positional.size() != 1 || !a.flag("output")) return usage();
  if (a.flag("threads")) set_num_threads(std::stoi(a.get("threads", "1")));
  models::AccompanyOptions o;  // the library's defaults unless given
  if (a.flag("track")) o.track = std::stoi(a.get("track", ""));
  if (a.flag("seed")) o.seed = std::stoull(a.get("seed", ""));
  if (a.flag("programs")) o.programs = parse_ints(a.get("programs", ""));
  if (a.flag("threshold")) o.threshold = std::stof(a.get("threshold", ""));
  if (a.flag("min-note-steps")) o.min_note_steps = std::stoi(a.get("min-note-steps", ""));
  if (a.flag("polyphonic")) o.monophonic = false;
  if (a.flag("leap-penalty")) o.leap_penalty = std::stof(a.get("leap-penalty", ""));
  models::GAN m = a.flag("weights") ? models::GAN::load(a.get("weights", ""))
                                    : models::GAN::pretrained(a.get("model", a.get("style", "chorale")));
  Score in = read_midi(a.positional[0]);
  models::AccompanyReport rep;
  Score out = m.accompany(in, o, &rep);
  write_midi(out, a.get("output", ""));
  std::printf("%s: melody track %d, %lld windows, parts", a.positional[0].c_str(), rep.melody_track,
              static_cast<long long>(rep.windows));
  for (size_t k = 0; k < rep.notes_per_part.size(); ++k)
    std::printf(" %s %lld notes", m.config().part_names[k].c_str(), static_cast<long long>(rep.notes_per_part[k]));
  std::printf(" -> %s\n", a.get("output", "").c_str());
  return 0;
}

int cmd_extend(const Args& a) {
  if (a.positional.size() != 1 || !a.flag("output")) return usage();
  if (a.flag("threads")) set_num_threads(std::stoi(a.get("threads", "1")));
  models::ExtendOptions o;  // the library's defaults unless given
  if (a.flag("seconds")) o.seconds = std::stod(a.get("seconds", ""));
  if (a.flag("temperature")) o.temperature = std::stod(a.get("temperature", ""));
  if (a.flag("top-p")) o.top_p = std::stod(a.get("top-p", ""));
  if (a.flag("top-k")) o.top_k = std::stoi(a.get("top-k", ""));
  if (a.flag("track")) o.track = std::stoi(a.get("track", ""));
  if (a.flag("seed")) o.seed = std::stoull(a.get("seed", ""));
  models::TransformerXL m = a.flag("weights") ? models::TransformerXL::load(a.get("weights", ""))
                                              : models::TransformerXL::pretrained(a.get("model", "transformer"));
  Score in = read_midi(a.positional[0]);
  models::ExtendReport rep;
  Score out = m.extend(in, o, &rep);
  write_midi(out, a.get("output", ""));
  std::printf("%s: primed with %lld tokens (%.0f ms), generated %lld tokens = %.1f s, %lld notes (%.0f ms, %.0f "
              "tokens/s)%s -> %s\n",
              a.positional[0].c_str(), static_cast<long long>(rep.prime_tokens), rep.prime_ms,
              static_cast<long long>(rep.generated_tokens), rep.generated_seconds,
              static_cast<long long>(rep.notes_added), rep.generate_ms,
              rep.generate_ms > 0 ? 1000.0 * rep.generated_tokens / rep.generate_ms : 0.0,
              rep.hit_max_tokens ? " (stopped at the token limit)" : "", a.get("output", "").c_str());
  return 0;
}

// Rolls i with i % 10 == 4 validate, i % 10 == 9 are held out for tests (by path order).
void split_by_index(const std::vector<MultiTrackRoll>& all, std::vector<MultiTrackRoll>& train,
                    std::vector<MultiTrackRoll>& valid, std::vector<MultiTrackRoll>& test) {
  for (size_t i = 0; i < all.size(); ++i) {
    if (all.size() >= 10 && i % 10 == 4) valid.push_back(all[i].clone());
    else if (all.size() >= 10 && i % 10 == 9) test.push_back(all[i].clone());
    else train.push_back(all[i].clone());
  }
}

// The multitrack rolls of --midi-dir (melody = --melody-track, an index among the
// non-drum tracks or a track name); skipped files are listed on stderr.
std::vector<MultiTrackRoll> load_folder(const Args& a, int tracks) {
  data::MidiFolderReport rep;
  const std::string mt = a.get("melody-track", "0");
  const data::MelodyTrack melody = mt.find_first_not_of("0123456789") == std::string::npos
                                       ? data::MelodyTrack(std::stoi(mt))
                                       : data::MelodyTrack(mt);
  data::MultitrackFolderOptions fo;
  fo.tracks = tracks;
  auto all = data::load_multitrack_folder(a.get("midi-dir", ""), melody, fo, &rep);
  for (const auto& s : rep.skipped) std::fprintf(stderr, "skipped %s\n", s.c_str());
  return all;
}

int cmd_eval_gan(const Args& a) {
  set_num_threads(std::stoi(a.get("threads", "2")));
  models::GAN m = a.flag("weights") ? models::GAN::load(a.get("weights", ""))
                                    : models::GAN::pretrained(a.get("model", "chorale"));
  const models::GanConfig& cfg = m.config();
  std::vector<MultiTrackRoll> test, unused_train, valid;
  std::string what;
  const std::string split = a.get("split", "test");
  if (split != "test" && split != "valid")
    throw InvalidArgument("eval gan: --split must be test or valid, got " + split);
  if (a.flag("midi-dir")) {
    split_by_index(load_folder(a, cfg.tracks), unused_train, valid, test);
    what = (split == "valid" ? "validation files of " : "held-out files of ") + a.get("midi-dir", "");
  } else {
    data::JsbMultitrack j = data::load_jsb_multitrack(a.get("jsb", data::default_jsb_path()));
    test = std::move(j.test);
    valid = std::move(j.valid);
    what = split == "valid" ? "JSB chorales validation split" : "JSB chorales test split";
  }
  if (split == "valid") test = std::move(valid);  // measure the validation pieces (choosing among models)
  if (test.empty()) throw InvalidArgument("eval gan: no held-out pieces (a folder needs 10 files or more)");
  std::int64_t steps = 0;
  for (const auto& r : test) steps += static_cast<std::int64_t>(r.steps());
  models::AccompanyOptions o;
  if (a.flag("seed")) o.seed = std::stoull(a.get("seed", ""));
  if (a.flag("threshold")) o.threshold = std::stof(a.get("threshold", ""));
  if (a.flag("min-note-steps")) o.min_note_steps = std::stoi(a.get("min-note-steps", ""));
  if (a.flag("polyphonic")) o.monophonic = false;
  if (a.flag("leap-penalty")) o.leap_penalty = std::stof(a.get("leap-penalty", ""));
  const auto real = models::measure_parts(test, models::real_parts(test), cfg.part_names);
  const auto gen = models::measure_parts(test, models::gan_parts(m, o), cfg.part_names);
  models::GAN untrained(cfg, 12345);
  untrained.set_training(false);
  const auto base = models::measure_parts(test, models::gan_parts(untrained, o), cfg.part_names);
  const auto rnd = models::measure_parts(test, models::random_in_key_parts(test, 7), cfg.part_names);
  std::printf("%zu pieces (%s), %lld 16th steps; model style %s\n\n", test.size(), what.c_str(),
              static_cast<long long>(steps), cfg.style.c_str());
  std::printf("| part | metric | real | generated | gen vs real | untrained G | random in key |\n");
  std::printf("|---|---|---:|---:|---:|---:|---:|\n");
  int within = 0, total = 0;
  for (size_t k = 0; k < real.size(); ++k) {
    const auto rv = real[k].values(), gv = gen[k].values(), bv = base[k].values(), xv = rnd[k].values();
    for (size_t j = 0; j < rv.size(); ++j) {
      const double r = rv[j].second, g = gv[j].second;
      const bool cons = rv[j].first == "consonance";
      std::string diff;
      char buf[64];
      if (cons) {
        std::snprintf(buf, sizeof buf, "%+.1f pts%s", 100.0 * (g - r), std::abs(g - r) <= 0.05 ? "" : " *");
        within += std::abs(g - r) <= 0.05;
      } else {
        if (std::abs(r) < 1e-9) {  // a real value of 0: the goal is an absolute 0.01
          std::snprintf(buf, sizeof buf, "%+.3f abs%s", g - r, std::abs(g - r) <= 0.01 ? "" : " *");
          within += std::abs(g - r) <= 0.01;
        } else {
          const double rel = (g - r) / std::abs(r);
          std::snprintf(buf, sizeof buf, "%+.1f %%%s", 100.0 * rel, std::abs(rel) <= 0.10 ? "" : " *");
          within += std::abs(rel) <= 0.10;
        }
      }
      ++total;
      diff = buf;
      std::printf("| %s | %s | %.3f | %.3f | %s | %.3f | %.3f |\n", real[k].part.c_str(), rv[j].first.c_str(), r, g,
                  diff.c_str(), bv[j].second, xv[j].second);
    }
    std::printf("| %s | notes | %lld | %lld | | %lld | %lld |\n", real[k].part.c_str(),
                static_cast<long long>(real[k].notes), static_cast<long long>(gen[k].notes),
                static_cast<long long>(base[k].notes), static_cast<long long>(rnd[k].notes));
  }
  std::printf("\n%d of %d figures within the goal (10 %% of the real value; consonance within 5 points); * marks the "
              "others\n",
              within, total);
  return 0;
}

int cmd_train_gan(const Args& a) {
  if (!a.flag("out")) return usage();
  set_num_threads(std::stoi(a.get("threads", "2")));
  const std::string style = a.get("style", "chorale");
  if (style != "chorale" && style != "quartet")
    throw InvalidArgument("train gan: --style must be chorale or quartet, got " + style);
  models::GanConfig cfg = models::GanConfig::compact();
  if (style == "quartet") cfg = cfg.with_quartet_style();
  cfg.filters = std::stoi(a.get("filters", std::to_string(cfg.filters)));
  cfg.latent_channels = std::stoi(a.get("latent", std::to_string(cfg.latent_channels)));
  if (a.flag("melody-chroma")) cfg.melody_chroma = true;
  models::GanFitOptions o;  // the library's defaults unless given
  if (a.flag("epochs")) o.epochs = std::stoi(a.get("epochs", ""));
  if (a.flag("batch-size")) o.batch_size = std::stoll(a.get("batch-size", ""));
  if (a.flag("lr")) o.lr = std::stod(a.get("lr", ""));
  if (a.flag("critic-steps")) o.critic_steps = std::stoi(a.get("critic-steps", ""));
  if (a.flag("seed")) o.seed = std::stoull(a.get("seed", ""));
  if (a.flag("transpose")) o.max_transpose = std::stoi(a.get("transpose", ""));
  if (a.flag("max-steps-per-epoch")) o.max_steps_per_epoch = std::stoll(a.get("max-steps-per-epoch", ""));
  if (a.flag("max-steps")) o.max_steps = std::stoll(a.get("max-steps", ""));
  if (a.flag("max-valid-batches")) o.max_valid_batches = std::stoll(a.get("max-valid-batches", ""));
  o.checkpoint_dir = a.get("out", "");
  o.resume = a.flag("resume");
  std::vector<MultiTrackRoll> train_rolls, valid_rolls, test_rolls;
  if (a.flag("midi-dir")) {
    split_by_index(load_folder(a, cfg.tracks), train_rolls, valid_rolls, test_rolls);
  } else {
    auto jsb = data::load_jsb_multitrack(a.get("jsb", data::default_jsb_path()));
    train_rolls = std::move(jsb.train);
    valid_rolls = std::move(jsb.valid);
  }
  const auto train = data::make_multitrack_windows(train_rolls, cfg.steps, 16);
  const auto valid = valid_rolls.empty() ? data::MultiTrackWindows(cfg.tracks, cfg.steps)
                                         : data::make_multitrack_windows(valid_rolls, cfg.steps, 16);
  models::GAN m(cfg, o.seed);
  std::printf("train gan: config %s, generator %lld / critic %lld parameters, %lld train / %lld valid windows "
              "(%zu / %zu / %zu rolls train / valid / test), %d threads%s\n",
              cfg.to_json().c_str(), static_cast<long long>(m.generator_parameter_count()),
              static_cast<long long>(m.critic_parameter_count()), static_cast<long long>(train.count()),
              static_cast<long long>(valid.count()), train_rolls.size(), valid_rolls.size(), test_rolls.size(),
              num_threads(), products_note().c_str());
  std::fflush(stdout);
  models::GanCallbacks cb;
  cb.on_step = [](const models::StepInfo& s) {
    if (s.global_step % 10 == 0) {
      std::printf("step %lld (epoch %d) critic %.4f generator %.4f wasserstein %.4f penalty %.4f\n",
                  static_cast<long long>(s.global_step), s.epoch, s.value("critic"), s.value("generator"),
                  s.value("wasserstein"), s.value("penalty"));
      std::fflush(stdout);
    }
    return true;
  };
  cb.on_epoch = [](const models::EpochInfo& e) {
    std::printf("epoch %d done: critic %.4f generator %.4f valid_wasserstein %.4f%s (%.0f s)\n", e.epoch,
                e.train_losses.at(0).second, e.train_losses.at(1).second, e.valid_loss, e.best ? " best" : "",
                e.seconds);
    std::fflush(stdout);
  };
  auto r = m.fit(train, valid, o, cb);
  // The generator alone, ready to ship (the checkpoints keep the critic).
  m.save(a.get("out", "") + "/generator.safetensors", {}, /*with_critic=*/false);
  std::printf("done: %lld steps; generator at %s/generator.safetensors\n", static_cast<long long>(r.global_step),
              a.get("out", "").c_str());
  return 0;
}

// The corpus named by --data: a comma-separated list of "jsb" (the JSB chorales'
// standard split) and MIDI folders (their train/valid/test subfolders, or every
// 10th file valid / test).
data::PerformanceCorpus load_performance_corpus(const Args& a) {
  data::PerformanceCorpusOptions po;
  if (a.flag("jsb-qpm")) po.jsb_qpm = std::stod(a.get("jsb-qpm", ""));
  data::PerformanceCorpus corpus;
  std::string list = a.get("data", "jsb");
  size_t from = 0;
  while (from <= list.size()) {
    size_t comma = list.find(',', from);
    if (comma == std::string::npos) comma = list.size();
    const std::string item = list.substr(from, comma - from);
    from = comma + 1;
    if (item.empty()) continue;
    if (item == "jsb") {
      corpus.append(data::jsb_performances(data::load_jsb_chorales(a.get("jsb", data::default_jsb_path())), po));
    } else {
      data::MidiFolderReport rep;
      corpus.append(data::load_performance_folder(item, po, &rep));
      std::fprintf(stderr, "%s: %zu files used, %zu skipped\n", item.c_str(), rep.used.size(), rep.skipped.size());
      for (const auto& s : rep.skipped) std::fprintf(stderr, "  skipped %s\n", s.c_str());
    }
  }
  return corpus;
}

void print_split(const char* name, const data::PerformanceSplit& s) {
  std::printf("  %-5s %6lld pieces %10lld tokens %9.0f s (%.1f tokens/s)\n", name,
              static_cast<long long>(s.streams.size()), static_cast<long long>(s.streams.total_tokens()), s.seconds,
              s.seconds > 0 ? static_cast<double>(s.streams.total_tokens()) / s.seconds : 0.0);
}

// --config reference|small|medium, then any field given on its own.
models::TransformerXLConfig txl_config(const Args& a) {
  const std::string name = a.get("config", "reference");
  models::TransformerXLConfig c;
  if (name == "small") c = models::TransformerXLConfig::small();
  else if (name == "medium") c = models::TransformerXLConfig::medium();
  else if (name != "reference")
    throw InvalidArgument("train transformer: --config must be reference, medium or small, got " + name);
  if (a.flag("layers")) c.layers = std::stoi(a.get("layers", ""));
  if (a.flag("heads")) c.heads = std::stoi(a.get("heads", ""));
  if (a.flag("d-model")) c.d_model = std::stoi(a.get("d-model", ""));
  if (a.flag("d-head")) c.d_head = std::stoi(a.get("d-head", ""));
  if (a.flag("d-inner")) c.d_inner = std::stoi(a.get("d-inner", ""));
  if (a.flag("dropout")) c.dropout = std::stof(a.get("dropout", ""));
  if (a.flag("segment")) c.segment = std::stoi(a.get("segment", ""));
  if (a.flag("memory")) c.memory = std::stoi(a.get("memory", ""));
  c.validate("train transformer");
  return c;
}

int cmd_train_transformer(const Args& a) {
  if (!a.flag("out")) return usage();
  set_num_threads(std::stoi(a.get("threads", "2")));
  // --init FILE: start from a model file's weights (its architecture and dropout) with a
  // fresh optimiser and schedule, e.g. a low-rate phase after a run.
  const bool init = a.flag("init");
  for (const char* k : {"config", "layers", "heads", "d-model", "d-head", "d-inner", "dropout", "segment", "memory"})
    if (init && a.flag(k))
      throw InvalidArgument(std::string("train transformer: --init takes the architecture from its file; drop --") + k);
  if (init && a.flag("resume"))
    throw InvalidArgument("train transformer: --init starts a new run; --resume continues one, give only one of them");
  models::TransformerXLFitOptions o;
  if (a.flag("epochs")) o.epochs = std::stoi(a.get("epochs", ""));
  if (a.flag("batch-size")) o.batch_size = std::stoll(a.get("batch-size", ""));
  if (a.flag("lr")) o.lr = std::stod(a.get("lr", ""));
  if (a.flag("warmup")) o.warmup_steps = std::stoll(a.get("warmup", ""));
  if (a.flag("lr-floor")) o.lr_floor = std::stod(a.get("lr-floor", ""));
  if (a.flag("seed")) o.seed = std::stoull(a.get("seed", ""));
  if (a.flag("max-steps-per-epoch")) o.max_steps_per_epoch = std::stoll(a.get("max-steps-per-epoch", ""));
  if (a.flag("max-steps")) o.max_steps = std::stoll(a.get("max-steps", ""));
  if (a.flag("max-valid-batches")) o.max_valid_batches = std::stoll(a.get("max-valid-batches", ""));
  o.checkpoint_dir = a.get("out", "");
  o.resume = a.flag("resume");
  data::PerformanceCorpus corpus = load_performance_corpus(a);
  data::AugmentOptions aug;
  aug.copies = std::stoi(a.get("augment", "1"));
  aug.max_transpose = std::stoi(a.get("transpose", "3"));
  aug.seed = o.seed;
  const data::PerformanceSplit train = data::augment_performances(corpus.train, aug);
  models::TransformerXL m = init ? models::TransformerXL::load(a.get("init", "")) : models::TransformerXL(txl_config(a), o.seed);
  const models::TransformerXLConfig& cfg = m.config();
  if (init) std::printf("train transformer: weights from %s\n", a.get("init", "").c_str());
  std::printf("train transformer: config %s, %lld parameters, %d threads%s; corpus %s:\n", cfg.to_json().c_str(),
              static_cast<long long>(m.parameter_count()), num_threads(), products_note().c_str(),
              a.get("data", "jsb").c_str());
  print_split("train", corpus.train);
  std::printf("  with %d augmented copies (x%.2f-%.2f, +-%d semitones):\n", aug.copies, aug.min_stretch,
              aug.max_stretch, aug.max_transpose);
  print_split("train", train);
  print_split("valid", corpus.valid);
  print_split("test", corpus.test);
  std::fflush(stdout);
  models::FitCallbacks cb;
  const std::int64_t every = std::stoll(a.get("log-every", "10"));
  cb.on_step = [every](const models::StepInfo& s) {
    if (s.global_step % every == 0) {
      std::printf("step %lld (epoch %d, %lld/%lld) loss %.4f lr %.3g grad_norm %.3f\n",
                  static_cast<long long>(s.global_step), s.epoch, static_cast<long long>(s.step + 1),
                  static_cast<long long>(s.steps_in_epoch), s.loss, s.value("lr"), s.value("grad_norm"));
      std::fflush(stdout);
    }
    return true;
  };
  // --keep-epochs: every epoch's weights as OUT/epoch-NN.safetensors (for checkpoint
  // averaging, scripts/average_weights.py).
  const bool keep = a.flag("keep-epochs");
  const std::string out_dir = a.get("out", "");
  cb.on_epoch = [keep, &m, &out_dir](const models::EpochInfo& e) {
    std::printf("epoch %d done: %lld steps, train %.4f valid_nll %.4f%s (%.0f s)\n", e.epoch,
                static_cast<long long>(e.steps), e.train_loss, e.valid_loss, e.best ? " best" : "", e.seconds);
    if (keep) {
      char name[32];
      std::snprintf(name, sizeof name, "/epoch-%02d.safetensors", e.epoch);
      m.save(out_dir + name, {{"epoch", std::to_string(e.epoch)}, {"valid_loss", std::to_string(e.valid_loss)}});
    }
    std::fflush(stdout);
  };
  auto r = m.fit(train.streams, corpus.valid.streams, o, cb);
  std::printf("done: %lld steps; best valid NLL %.4f at epoch %d; model at %s/best.safetensors\n",
              static_cast<long long>(r.global_step), r.best_valid_loss, r.best_epoch, a.get("out", "").c_str());
  return 0;
}

// "0.123" or "-" for NaN / a missing value.
std::string cell(double v, const char* fmt = "%.3f") {
  if (!std::isfinite(v)) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

// The continuation protocol's tables (Markdown).
void print_continuations(const models::ContinuationReport& r) {
  const std::vector<std::string> label{"model", "repeat", "Markov"};
  std::printf("\nContinuations: %lld pieces (%lld shorter than %g + %g s skipped), prime %g s, continuation %g s\n\n",
              static_cast<long long>(r.pieces_used), static_cast<long long>(r.pieces_skipped), r.prime_seconds,
              r.continuation_seconds, r.prime_seconds, r.continuation_seconds);
  std::printf("| feature | OA model | OA repeat | OA Markov | mean real | mean model | mean repeat | mean Markov |\n");
  std::printf("|---|---|---|---|---|---|---|---|\n");
  std::vector<const models::FeatureOverlap*> histograms;
  for (const auto& f : r.features) {
    std::printf("| %s |", f.feature.c_str());
    for (double oa : f.overlap) std::printf(" %s |", cell(oa).c_str());
    if (f.real_mean.size() > 1) {
      histograms.push_back(&f);
      std::printf(" (below) | | | |\n");
      continue;
    }
    std::printf(" %s |", cell(f.real_mean.empty() ? NAN : f.real_mean[0]).c_str());
    for (const auto& m : f.generated_mean) std::printf(" %s |", cell(m.empty() ? NAN : m[0]).c_str());
    std::printf("\n");
  }
  for (const auto* f : histograms) {
    const std::size_t n = f->real_mean.size();
    std::printf("\nMean %s:\n\n| %s |", f->feature.c_str(), n == 12 ? "pitch class" : "length (s)");
    if (n == 12) {
      const char* pc[] = {"C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"};
      for (const char* c : pc) std::printf(" %s |", c);
    } else {
      const auto& e = models::note_length_bin_edges();
      for (std::size_t k = 0; k < n; ++k)
        std::printf(" %s |", k == 0 ? ("<" + cell(e[0], "%.3g")).c_str()
                             : k + 1 == n ? (">=" + cell(e[k - 1], "%.3g")).c_str()
                                          : (cell(e[k - 1], "%.3g") + "-" + cell(e[k], "%.3g")).c_str());
    }
    std::printf("\n|---|");
    for (std::size_t k = 0; k < n; ++k) std::printf("---|");
    std::printf("\n");
    const auto row = [n](const char* name, const std::vector<double>& v) {
      std::printf("| %s |", name);
      for (std::size_t k = 0; k < n; ++k) std::printf(" %s |", cell(k < v.size() ? v[k] : NAN).c_str());
      std::printf("\n");
    };
    row("real", f->real_mean);
    for (std::size_t g = 0; g < f->generated_mean.size(); ++g) row(label[g].c_str(), f->generated_mean[g]);
  }
  std::printf("\nnotes: real %lld", static_cast<long long>(r.real_notes));
  for (std::size_t g = 0; g < r.generated_notes.size(); ++g)
    std::printf(", %s %lld", label[g].c_str(), static_cast<long long>(r.generated_notes[g]));
  std::printf("\ntime: model %.1f s (%lld tokens%s), repeat %.2f s, Markov %.2f s (fit %.2f s); all %.1f s\n",
              r.generator_seconds[0], static_cast<long long>(r.model_tokens),
              r.model_hit_max_tokens ? ", some stopped at the token limit" : "", r.generator_seconds[1],
              r.generator_seconds[2], r.markov_fit_seconds, r.seconds);
}

int cmd_eval_transformer(const Args& a) {
  const auto t0 = std::chrono::steady_clock::now();
  set_num_threads(std::stoi(a.get("threads", "2")));
  models::TransformerXL m = a.flag("weights") ? models::TransformerXL::load(a.get("weights", ""))
                                              : models::TransformerXL::pretrained(a.get("model", "transformer"));
  const data::PerformanceCorpus corpus = load_performance_corpus(a);
  const std::string split = a.get("split", "test");
  const data::PerformanceSplit& s = split == "valid" ? corpus.valid : split == "train" ? corpus.train : corpus.test;
  std::int64_t n = 0;
  const double nll = m.evaluate_nll(s.streams, std::stoll(a.get("batch-size", "16")), 0, &n);
  std::printf("%s split of %s: %lld pieces, %lld targets, %.0f s of music\n", split.c_str(),
              a.get("data", "jsb").c_str(), static_cast<long long>(s.streams.size()), static_cast<long long>(n),
              s.seconds);
  std::printf("NLL %.4f nats/token, %.1f nats/second\n", nll, s.seconds > 0 ? nll * n / s.seconds : 0.0);
  if (!a.flag("continuations")) return 0;

  models::ContinuationOptions o;  // the library's defaults unless given
  if (a.flag("prime-seconds")) o.prime_seconds = std::stod(a.get("prime-seconds", ""));
  if (a.flag("continuation-seconds")) o.continuation_seconds = std::stod(a.get("continuation-seconds", ""));
  if (a.flag("markov-order")) o.markov_order = std::stoi(a.get("markov-order", ""));
  if (a.flag("seed")) o.seed = std::stoull(a.get("seed", ""));
  if (a.flag("max-pieces")) o.max_pieces = std::stoll(a.get("max-pieces", ""));
  if (a.flag("temperature")) o.temperature = std::stod(a.get("temperature", ""));
  if (a.flag("top-p")) o.top_p = std::stod(a.get("top-p", ""));
  if (a.flag("top-k")) o.top_k = std::stoi(a.get("top-k", ""));
  const auto t1 = std::chrono::steady_clock::now();
  models::MarkovEventModel markov(o.markov_order);
  markov.fit(corpus.train.streams);
  const double fit_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
  std::int64_t mn = 0;
  const double mnll = markov.evaluate_nll(s.streams, &mn);
  std::printf("\n| model on the %s split | NLL nats/token | nats/second |\n|---|---|---|\n", split.c_str());
  std::printf("| Transformer-XL | %.4f | %.1f |\n", nll, s.seconds > 0 ? nll * n / s.seconds : 0.0);
  std::printf("| Markov order %d (Witten-Bell, %lld training pieces) | %.4f | %.1f |\n", o.markov_order,
              static_cast<long long>(corpus.train.streams.size()), mnll,
              s.seconds > 0 ? mnll * mn / s.seconds : 0.0);
  if (mn != n) std::printf("(targets differ: model %lld, Markov %lld)\n", static_cast<long long>(n),
                           static_cast<long long>(mn));
  models::ContinuationReport r = models::evaluate_continuations(m, s, markov, o);
  r.markov_fit_seconds = fit_s;
  print_continuations(r);
  std::printf("wall time %.1f s\n", std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  return 0;
}

int cmd_models() {
  for (const models::ShippedModel& m : models::shipped_models()) {
    std::string names = m.name, where;
    for (const auto& al : m.aliases) names += ", " + al;
    try {
      where = models::shipped_model_path(m.name);
    } catch (const IoError&) {
      where = "(not found" + (m.env_var.empty() ? std::string() : ": set " + m.env_var) + ")";
    }
    std::printf("%s\t%s\t%s\n    %s\n", names.c_str(), m.kind.c_str(), where.c_str(), m.description.c_str());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage();
  try {
    std::string cmd = argv[1];
    if (cmd == "edit") return cmd_edit(parse(argc, argv, 2));
    if (cmd == "accompany") return cmd_accompany(parse(argc, argv, 2));
    if (cmd == "extend") return cmd_extend(parse(argc, argv, 2));
    if (cmd == "models") return cmd_models();
    if (cmd == "train" && argc >= 3 && std::string(argv[2]) == "gan") return cmd_train_gan(parse(argc, argv, 3));
    if (cmd == "eval" && argc >= 3 && std::string(argv[2]) == "gan") return cmd_eval_gan(parse(argc, argv, 3));
    if (cmd == "train" && argc >= 3 && std::string(argv[2]) == "transformer")
      return cmd_train_transformer(parse(argc, argv, 3));
    if (cmd == "eval" && argc >= 3 && std::string(argv[2]) == "transformer")
      return cmd_eval_transformer(parse(argc, argv, 3));
    if (cmd == "train" && argc >= 3 && std::string(argv[2]) == "arcnn")
      return cmd_train_arcnn(parse(argc, argv, 3));
    return usage();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "partita-cli: %s\n", e.what());
    return 1;
  }
}
