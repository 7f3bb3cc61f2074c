// partita-cli: the C++ command line (mirrors the Python `partita` command):
// `partita-cli edit IN.mid -o OUT.mid [controls]` (AR-CNN), `partita-cli accompany
// IN.mid -o OUT.mid [options]` (GAN), `partita-cli models`, `partita-cli train arcnn
// --out DIR [options]` (scripts/train_arcnn.sh) and `partita-cli train gan --out DIR
// [options]` (scripts/train_gan.sh). Every default comes from the library
// (EditControls, ArcnnFitOptions, ArcnnConfig::compact(), GanFitOptions,
// GanConfig::compact(), AccompanyOptions, the shipped-model registry).
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "partita/core/error.hpp"
#include "partita/core/threads.hpp"
#include "partita/data/jsb_chorales.hpp"
#include "partita/data/jsb_multitrack.hpp"
#include "partita/data/multitrack_folder.hpp"
#include "partita/data/multitrack_windows.hpp"
#include "partita/data/midi_folder.hpp"
#include "partita/data/windows.hpp"
#include "partita/models/arcnn.hpp"
#include "partita/models/gan.hpp"
#include "partita/models/gan_eval.hpp"
#include "partita/models/registry.hpp"
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
      else if (key != "resume" && key != "help" && key != "polyphonic" && i + 1 < argc) val = argv[++i];
      a.opt[key] = val;
    } else {
      a.positional.push_back(s);
    }
  }
  return a;
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
  const std::string text =
      "usage:\n"
      "  partita-cli edit IN.mid -o OUT.mid [--max-remove-pct " + num(e.max_remove_pct) + "] [--max-add " +
      std::to_string(e.max_add) + "]\n"
      "      [--iterations " + std::to_string(e.iterations) + "] [--creative-risk " + num(e.creative_risk) +
      "] [--resolve-iterations " + std::to_string(e.resolve_iterations) + "]\n"
      "      [--seed " + std::to_string(e.seed) + "] [--track -1]\n"
      "      [--weights FILE | --model " + models::default_shipped_model("arcnn").name + "] [--threads N]\n"
      "  partita-cli accompany IN.mid -o OUT.mid [--model chorale | --weights FILE] [--track -1]\n"
      "      [--programs P1,P2,P3] [--seed 0] [--threshold 0] [--min-note-steps 1] [--polyphonic] [--threads N]\n"
      "  partita-cli eval gan [--model chorale | --weights FILE] [--midi-dir DIR --melody-track 0] [--seed 0]\n"
      "      (held-out pieces: the JSB test split, or every 10th file of DIR; metrics of real, generated\n"
      "       and baseline parts as a Markdown table)\n"
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
      "] [--epochs " + std::to_string(gf.epochs) + "] [--max-steps N] [--batch-size " + std::to_string(gf.batch_size) +
      "]\n      [--lr " + num(gf.lr) + "] [--critic-steps " + std::to_string(gf.critic_steps) + "] [--transpose " +
      std::to_string(gf.max_transpose) + "] [--seed " + std::to_string(gf.seed) + "] [--threads 2] [--resume]\n";
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
  std::printf("train arcnn: config %s, %lld parameters, %lld train / %lld valid windows, %d threads\n",
              cfg.to_json().c_str(), static_cast<long long>(m.parameter_count()),
              static_cast<long long>(train.count()), static_cast<long long>(valid.count()),
              num_threads());
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
  std::vector<MultiTrackRoll> test, unused_train, unused_valid;
  std::string what;
  if (a.flag("midi-dir")) {
    split_by_index(load_folder(a, cfg.tracks), unused_train, unused_valid, test);
    what = "held-out files of " + a.get("midi-dir", "");
  } else {
    test = data::load_jsb_multitrack(a.get("jsb", data::default_jsb_path())).test;
    what = "JSB chorales test split";
  }
  if (test.empty()) throw InvalidArgument("eval gan: no held-out pieces (a folder needs 10 files or more)");
  std::int64_t steps = 0;
  for (const auto& r : test) steps += static_cast<std::int64_t>(r.steps());
  models::AccompanyOptions o;
  if (a.flag("seed")) o.seed = std::stoull(a.get("seed", ""));
  if (a.flag("min-note-steps")) o.min_note_steps = std::stoi(a.get("min-note-steps", ""));
  if (a.flag("polyphonic")) o.monophonic = false;
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
              "(%zu / %zu / %zu rolls train / valid / test), %d threads\n",
              cfg.to_json().c_str(), static_cast<long long>(m.generator_parameter_count()),
              static_cast<long long>(m.critic_parameter_count()), static_cast<long long>(train.count()),
              static_cast<long long>(valid.count()), train_rolls.size(), valid_rolls.size(), test_rolls.size(),
              num_threads());
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
    if (cmd == "models") return cmd_models();
    if (cmd == "train" && argc >= 3 && std::string(argv[2]) == "gan") return cmd_train_gan(parse(argc, argv, 3));
    if (cmd == "eval" && argc >= 3 && std::string(argv[2]) == "gan") return cmd_eval_gan(parse(argc, argv, 3));
    if (cmd == "train" && argc >= 3 && std::string(argv[2]) == "arcnn")
      return cmd_train_arcnn(parse(argc, argv, 3));
    return usage();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "partita-cli: %s\n", e.what());
    return 1;
  }
}
