// Progress bars and change lines for `comfydist run`.
#include "cli/progress_display.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <iterator>

#include "cli/job_view.hpp"

namespace comfydist::cli {
namespace {

constexpr int kBarWidth = 20;

std::int64_t unit_index(const json& unit) {
  return static_cast<std::int64_t>(number_field(unit, "index"));
}

std::string worker_label(const json& unit) {
  std::string name = text_field(unit, "worker_name");
  return name.empty() ? text_field(unit, "worker_id").substr(0, 8) : name;
}

std::string last_error(const json& unit) {
  const json errors = array_field(unit, "errors");
  return errors.empty() ? std::string() : first_line(text_field(errors.back(), "message"));
}

// A whole number of percent, clamped: a worker may report value > max for a moment.
int percent_of(const json& unit) {
  const json progress = object_field(unit, "progress");
  const double max = number_field(progress, "max");
  if (max <= 0) {
    return 0;
  }
  const double fraction = std::clamp(number_field(progress, "value") / max, 0.0, 1.0);
  return static_cast<int>(std::floor(fraction * 100));
}

std::string bar(int percent) {
  const int filled = percent * kBarWidth / 100;
  return "[" + std::string(static_cast<std::size_t>(filled), '#') +
         std::string(static_cast<std::size_t>(kBarWidth - filled), '-') + "]";
}

std::string pad_left(const std::string& text, int width) {
  const auto size = static_cast<int>(text.size());
  return size >= width ? text : std::string(static_cast<std::size_t>(width - size), ' ') + text;
}

// Cuts at a character boundary of UTF-8 text (worker names may hold any character).
std::string fit(std::string line, int columns) {
  const auto limit = static_cast<std::size_t>(std::max(columns - 1, 10));
  if (line.size() <= limit) {
    return line;
  }
  std::size_t cut = limit;
  while (cut > 0 && (static_cast<unsigned char>(line[cut]) & 0xC0) == 0x80) {
    --cut;
  }
  line.resize(cut);
  return line;
}

std::string plural(std::size_t n, const std::string& word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

std::string elapsed_text(double seconds) {
  const auto whole = static_cast<long>(seconds);
  if (whole < 60) {
    return std::to_string(whole) + " s";
  }
  return std::to_string(whole / 60) + " min " + std::to_string(whole % 60) + " s";
}

}  // namespace

std::string unit_progress_line(const json& unit, int index_width) {
  const std::string state = text_field(unit, "state");
  const auto attempts = static_cast<int>(number_field(unit, "attempts"));
  std::string line = "unit " + pad_left(std::to_string(unit_index(unit)), index_width) + " ";
  const std::string attempt_note =
      attempts > 1 ? "  (attempt " + std::to_string(attempts) + ")" : std::string();
  if (state == "done") {
    line += bar(100) + " done  " + worker_label(unit) + attempt_note;
  } else if (state == "failed") {
    line += bar(0) + " failed  " + worker_label(unit) + ": " + last_error(unit);
  } else if (state == "dispatched") {
    const int percent = percent_of(unit);
    line += bar(percent) + " " + pad_left(std::to_string(percent), 3) + "%  " + worker_label(unit) +
            attempt_note;
  } else if (attempts > 0) {
    line += bar(0) + " pending  (retrying after: " + last_error(unit) + ")";
  } else {
    line += bar(0) + " " + (state.empty() ? std::string("pending") : state);
  }
  return line;
}

std::vector<std::string> worker_progress_lines(const json& job) {
  const json units = array_field(job, "units");
  const std::string noun = text_field(job, "mode") == "tiles" ? "tile" : "unit";
  struct worker_view {
    std::string label;
    std::size_t done = 0;
    std::vector<const json*> running;
  };
  std::vector<worker_view> workers;
  std::map<std::string, std::size_t> unheld;  // units no worker holds now, by what they wait for
  for (const auto& unit : units) {
    const std::string state = text_field(unit, "state");
    const std::string label = worker_label(unit);
    if ((state == "done" || state == "dispatched") && !label.empty()) {
      auto it = std::find_if(workers.begin(), workers.end(),
                             [&](const worker_view& w) { return w.label == label; });
      if (it == workers.end()) {
        workers.push_back(worker_view{label, 0, {}});
        it = std::prev(workers.end());
      }
      if (state == "done") {
        ++it->done;
      } else {
        it->running.push_back(&unit);
      }
    } else if (state == "pending" || state.empty()) {
      ++unheld[number_field(unit, "attempts") > 0 ? "to retry" : "waiting"];
    } else if (state != "done") {
      ++unheld[state];
    }
  }
  std::size_t label_width = 0;
  for (const auto& w : workers) {
    label_width = std::max(label_width, w.label.size());
  }
  std::vector<std::string> lines;
  for (const auto& w : workers) {
    std::string line = w.label + std::string(label_width - w.label.size(), ' ') + "  ";
    if (w.running.empty()) {
      line += bar(0) + " idle";
    } else {
      const int percent = percent_of(*w.running.front());
      line += bar(percent) + " " + pad_left(std::to_string(percent), 3) + "%  " + noun + " " +
              std::to_string(unit_index(*w.running.front()));
      if (w.running.size() > 1) {
        line += " (+" + std::to_string(w.running.size() - 1) + " queued)";
      }
    }
    line += " · " + std::to_string(w.done) + " done";
    lines.push_back(line);
  }
  if (!unheld.empty()) {
    std::string line;
    const char* separator = "";
    for (const auto& [what, count] : unheld) {
      line += separator + plural(count, noun) + " " + what;
      separator = ", ";
    }
    lines.push_back(line);
  }
  return lines;
}

std::vector<std::string> progress_lines(const json& job, double elapsed_s, int rows, int columns) {
  const json units = array_field(job, "units");
  std::size_t done = 0;
  std::int64_t max_index = 0;
  for (const auto& unit : units) {
    done += text_field(unit, "state") == "done" ? 1 : 0;
    max_index = std::max(max_index, unit_index(unit));
  }
  const bool tiled = text_field(job, "mode") == "tiles";
  std::vector<std::string> lines;
  lines.push_back(
      fit("job " + text_field(job, "id").substr(0, 8) + "  " + text_field(job, "state") + "  " +
              text_field(job, "mode") + "  " + std::to_string(done) + "/" +
              plural(units.size(), tiled ? "tile" : "unit") + " done  " + elapsed_text(elapsed_s),
          columns));
  const auto index_width = static_cast<int>(std::to_string(max_index).size());
  // The header and the line the cursor rests on take two rows.
  const auto budget = static_cast<std::size_t>(std::max(rows - 2, 3));
  if (!tiled && units.size() <= budget) {
    for (const auto& unit : units) {
      lines.push_back(fit(unit_progress_line(unit, index_width), columns));
    }
    return lines;
  }
  // Many units (a tiled job has dozens to thousands): one bar per worker.
  std::vector<std::string> per_worker = worker_progress_lines(job);
  if (per_worker.size() > budget) {
    const std::size_t cut = per_worker.size() - budget + 1;
    per_worker.resize(budget - 1);
    per_worker.push_back("+ " + plural(cut, "more line"));
  }
  for (auto& line : per_worker) {
    lines.push_back(fit(std::move(line), columns));
  }
  return lines;
}

std::string unit_change_line(const json& unit) {
  const std::string state = text_field(unit, "state");
  const auto attempts = static_cast<int>(number_field(unit, "attempts"));
  std::string line = "unit " + std::to_string(unit_index(unit)) + ": ";
  if (state == "dispatched") {
    line += "running on " + worker_label(unit);
    if (attempts > 1) {
      line += " (attempt " + std::to_string(attempts) + ")";
    }
  } else if (state == "done") {
    line += "done on " + worker_label(unit);
    if (const std::size_t files = array_field(unit, "outputs").size(); files > 0) {
      line += " (" + plural(files, "file") + ")";
    }
  } else if (state == "failed") {
    line += "failed on " + worker_label(unit) + ": " + last_error(unit);
  } else if (state == "pending" && attempts > 0) {
    line += "attempt " + std::to_string(attempts) + " on " + worker_label(unit) +
            " failed: " + last_error(unit) + "; waiting to retry";
  } else {
    line += state;
  }
  return line;
}

progress_display::progress_display(std::FILE* out, bool terminal)
    : out_(out), terminal_(terminal), start_(std::chrono::steady_clock::now()) {}

void progress_display::update(const json& job) {
  if (terminal_) {
    redraw(job);
  } else {
    print_changes(job);
  }
  last_job_ = job;
}

void progress_display::note(const std::string& line) {
  if (terminal_ && drawn_lines_ > 0) {
    // Clears the drawing, prints the note where it was, and draws the job again below.
    std::fprintf(out_, "\x1b[%zuF\x1b[J", drawn_lines_);
    drawn_lines_ = 0;
    std::fprintf(out_, "%s\n", line.c_str());
    redraw(last_job_);
    return;
  }
  std::fprintf(out_, "%s\n", line.c_str());
  std::fflush(out_);
}

void progress_display::redraw(const json& job) {
  winsize size{};
  int rows = 24;
  int columns = 80;
  if (ioctl(fileno(out_), TIOCGWINSZ, &size) == 0 && size.ws_row > 0 && size.ws_col > 0) {
    rows = size.ws_row;
    columns = size.ws_col;
  }
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  std::string text;
  if (drawn_lines_ > 0) {
    // To the first line of the last drawing, then erase it all: the new one may be shorter.
    text += "\x1b[" + std::to_string(drawn_lines_) + "F\x1b[J";
  }
  const std::vector<std::string> lines = progress_lines(job, elapsed, rows, columns);
  for (const auto& line : lines) {
    text += line + "\n";
  }
  drawn_lines_ = lines.size();
  std::fwrite(text.data(), 1, text.size(), out_);
  std::fflush(out_);
}

void progress_display::print_changes(const json& job) {
  // The final state is left to the summary that follows.
  const std::string state = text_field(job, "state");
  if (state != job_state_ && !is_final_job_state(state)) {
    std::fprintf(out_, "job %s: %s\n", text_field(job, "id").c_str(), state.c_str());
  }
  for (const auto& unit : array_field(job, "units")) {
    const std::string unit_state = text_field(unit, "state");
    const std::string key = unit_state + "|" + text_field(unit, "worker_id") + "|" +
                            std::to_string(number_field(unit, "attempts"));
    const auto [it, inserted] = unit_keys_.try_emplace(unit_index(unit), key);
    if (!inserted && it->second == key) {
      continue;
    }
    it->second = key;
    // A fresh pending unit is not news: a job of 1000 units would start with 1000 such lines.
    if (inserted && unit_state == "pending" && number_field(unit, "attempts") == 0) {
      continue;
    }
    std::fprintf(out_, "%s\n", unit_change_line(unit).c_str());
  }
  job_state_ = state;
  std::fflush(out_);
}

}  // namespace comfydist::cli
