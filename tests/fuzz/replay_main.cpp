// Standalone driver for the fuzz targets: runs every given file, and every file under every
// given directory (recursively, in sorted order), through LLVMFuzzerTestOneInput once. Used by
// CTest (fuzz.replay.<target>) with any compiler; no libFuzzer needed.
//
//   replay_<target> [-v] PATH...
//
// Prints "N inputs replayed" and exits 0. Exits non-zero when a path is missing, when no input
// was found, or when the target returns anything but 0 / -1; a crash, an abort (FUZZ_CHECK) or a
// sanitizer report ends the process, naming the input being replayed. Other arguments starting
// with '-' are ignored, so libFuzzer-style flags do no harm.
#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <system_error>
#include <vector>

#include <unistd.h>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
// Present when a sanitizer runtime is linked in: sanitizer reports end with _exit, not a signal.
extern "C" void __sanitizer_set_death_callback(void (*callback)(void)) __attribute__((weak));

namespace {

namespace fs = std::filesystem;

char g_current[4096];  // the input being replayed, for the crash handlers

void say_current() {
  if (!g_current[0]) return;
  static const char prefix[] = "\n*** replay: failure while running input ";
  ssize_t ignored = write(STDERR_FILENO, prefix, sizeof(prefix) - 1);
  ignored = write(STDERR_FILENO, g_current, strnlen(g_current, sizeof(g_current)));
  ignored = write(STDERR_FILENO, "\n", 1);
  (void)ignored;
}

extern "C" void on_signal(int sig) {
  say_current();
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

extern "C" void on_sanitizer_death() { say_current(); }

bool read_file(const fs::path &p, std::vector<uint8_t> &out) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return false;
  out.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return !in.bad();
}

}  // namespace

int main(int argc, char **argv) {
  bool verbose = false;
  std::vector<fs::path> files;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "-v") {
      verbose = true;
      continue;
    }
    if (!arg.empty() && arg[0] == '-') continue;
    std::error_code ec;
    const fs::path p(arg);
    if (fs::is_directory(p, ec)) {
      std::vector<fs::path> found;
      for (auto it = fs::recursive_directory_iterator(p, ec); !ec && it != fs::recursive_directory_iterator();
           it.increment(ec)) {
        if (it->is_regular_file(ec)) found.push_back(it->path());
      }
      if (ec) {
        std::fprintf(stderr, "replay: cannot list %s: %s\n", arg.c_str(), ec.message().c_str());
        return 1;
      }
      std::sort(found.begin(), found.end());
      files.insert(files.end(), found.begin(), found.end());
    } else if (fs::is_regular_file(p, ec)) {
      files.push_back(p);
    } else {
      std::fprintf(stderr, "replay: no such file or directory: %s\n", arg.c_str());
      return 1;
    }
  }
  if (files.empty()) {
    std::fprintf(stderr, "replay: no inputs (usage: %s [-v] FILE|DIR...)\n", argc > 0 ? argv[0] : "replay");
    return 2;
  }

  for (int sig : {SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL}) std::signal(sig, on_signal);
  if (__sanitizer_set_death_callback) __sanitizer_set_death_callback(on_sanitizer_death);

  size_t replayed = 0;
  double slowest_ms = 0;
  std::string slowest;
  std::vector<uint8_t> data;
  for (const auto &f : files) {
    if (!read_file(f, data)) {
      std::fprintf(stderr, "replay: cannot read %s\n", f.c_str());
      return 1;
    }
    std::snprintf(g_current, sizeof(g_current), "%s", f.c_str());
    if (verbose) std::fprintf(stderr, "replay: %s (%zu bytes)\n", f.c_str(), data.size());
    // A copy sized exactly, so ASan sees reads past the end of the input.
    std::vector<uint8_t> exact(data.begin(), data.end());
    const auto t0 = std::chrono::steady_clock::now();
    const int rc = LLVMFuzzerTestOneInput(exact.empty() ? nullptr : exact.data(), exact.size());
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    if (rc != 0 && rc != -1) {
      std::fprintf(stderr, "replay: %s: LLVMFuzzerTestOneInput returned %d\n", f.c_str(), rc);
      return 1;
    }
    if (ms > slowest_ms) {
      slowest_ms = ms;
      slowest = f.string();
    }
    ++replayed;
  }
  g_current[0] = '\0';
  std::printf("%zu inputs replayed (slowest %.2f ms: %s)\n", replayed, slowest_ms, slowest.c_str());
  return 0;
}
