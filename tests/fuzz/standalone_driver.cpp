// A small driver for compilers without libFuzzer: feeds LLVMFuzzerTestOneInput seeded
// pseudo-random byte strings and mutations of earlier inputs and of any corpus files given.
// No coverage feedback; a crash or property violation aborts the process like libFuzzer does.
//
// Usage: fuzz_TARGET [-runs=N] [-max_total_time=SECONDS] [-seed=S] [-max_len=BYTES]
//                    [-artifact_prefix=PATH] [FILE|DIR ...]
// With a FILE or DIR argument and no -runs / -max_total_time, it only replays those inputs.
// On a crash the input is written to PATHcrash-standalone (PATH defaults to ./) for replay.
#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);
extern "C" void __sanitizer_set_death_callback(void (*callback)(void));

namespace {

using Bytes = std::vector<std::uint8_t>;

bool flag_value(const char* arg, const char* name, long long& out) {
  const std::size_t n = std::strlen(name);
  if (std::strncmp(arg, name, n) != 0 || arg[n] != '=') return false;
  char* end = nullptr;
  out = std::strtoll(arg + n + 1, &end, 10);
  if (end == arg + n + 1 || *end != '\0' || out < 0) {
    std::fprintf(stderr, "bad value in %s\n", arg);
    std::exit(2);
  }
  return true;
}

Bytes read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// The input being run, written out by dump_current() when the process dies.
const std::uint8_t* g_current = nullptr;
std::size_t g_current_size = 0;
std::string g_crash_path = "./crash-standalone";

void dump_current() {
  if (g_current == nullptr) return;
  const int fd = ::open(g_crash_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return;
  std::size_t off = 0;
  while (off < g_current_size) {
    const ssize_t n = ::write(fd, g_current + off, g_current_size - off);
    if (n <= 0) break;
    off += static_cast<std::size_t>(n);
  }
  ::close(fd);
  static const char kMsg[] = "standalone driver: crashing input written to ";
  (void)!::write(2, kMsg, sizeof kMsg - 1);
  (void)!::write(2, g_crash_path.c_str(), g_crash_path.size());
  (void)!::write(2, "\n", 1);
  g_current = nullptr;
}

extern "C" void on_fatal_signal(int sig) {
  dump_current();
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

void run_one(const Bytes& input) {
  // A private copy of the exact length, so reads past the end are caught by ASan.
  std::unique_ptr<std::uint8_t[]> copy(new std::uint8_t[input.size() == 0 ? 1 : input.size()]);
  if (!input.empty()) std::memcpy(copy.get(), input.data(), input.size());
  g_current = copy.get();
  g_current_size = input.size();
  LLVMFuzzerTestOneInput(copy.get(), input.size());
  g_current = nullptr;
}

void mutate(Bytes& b, std::mt19937_64& rng, std::size_t max_len, const std::vector<Bytes>& pool) {
  const int steps = 1 + static_cast<int>(rng() % 4);
  for (int s = 0; s < steps; ++s) {
    switch (rng() % 7) {
      case 0:  // flip a bit
        if (!b.empty()) b[rng() % b.size()] ^= static_cast<std::uint8_t>(1u << (rng() % 8));
        break;
      case 1:  // set a byte
        if (!b.empty()) b[rng() % b.size()] = static_cast<std::uint8_t>(rng());
        break;
      case 2:  // insert a byte
        if (b.size() < max_len) b.insert(b.begin() + static_cast<std::ptrdiff_t>(rng() % (b.size() + 1)),
                                          static_cast<std::uint8_t>(rng()));
        break;
      case 3:  // erase a range
        if (!b.empty()) {
          const std::size_t at = rng() % b.size();
          const std::size_t len = 1 + rng() % std::min<std::size_t>(8, b.size() - at);
          b.erase(b.begin() + static_cast<std::ptrdiff_t>(at), b.begin() + static_cast<std::ptrdiff_t>(at + len));
        }
        break;
      case 4:  // an interesting value
        if (!b.empty()) {
          static const std::uint8_t kValues[] = {0, 1, 2, 3, 6, 7, 8, 9, 0x7f, 0x80, 0xfe, 0xff};
          b[rng() % b.size()] = kValues[rng() % sizeof kValues];
        }
        break;
      case 5:  // splice with another input
        if (!pool.empty()) {
          const Bytes& o = pool[rng() % pool.size()];
          if (!o.empty()) {
            const std::size_t at = rng() % o.size();
            const std::size_t cut = b.empty() ? 0 : rng() % b.size();
            b.resize(cut);
            b.insert(b.end(), o.begin() + static_cast<std::ptrdiff_t>(at), o.end());
          }
        }
        break;
      default:  // copy a chunk over another place
        if (b.size() > 1) {
          const std::size_t from = rng() % b.size(), to = rng() % b.size();
          const std::size_t len = 1 + rng() % (b.size() - std::max(from, to));
          std::memmove(b.data() + to, b.data() + from, len);
        }
        break;
    }
  }
  if (b.size() > max_len) b.resize(max_len);
}

}  // namespace

int main(int argc, char** argv) {
  long long runs = -1, max_time = -1, seed = 1, max_len = 256;
  std::vector<Bytes> corpus;
  for (int i = 1; i < argc; ++i) {
    const char* a = argv[i];
    long long v = 0;
    if (flag_value(a, "-runs", v)) {
      runs = v;
    } else if (flag_value(a, "-max_total_time", v)) {
      max_time = v;
    } else if (flag_value(a, "-seed", v)) {
      seed = v;
    } else if (flag_value(a, "-max_len", v)) {
      max_len = v > 0 ? v : 1;
    } else if (std::strncmp(a, "-artifact_prefix=", 17) == 0) {
      g_crash_path = std::string(a + 17) + "crash-standalone";
    } else if (a[0] == '-') {
      std::fprintf(stderr, "unknown flag %s (the standalone driver takes -runs, -max_total_time, -seed, -max_len, -artifact_prefix)\n", a);
      return 2;
    } else {
      const std::filesystem::path p(a);
      if (std::filesystem::is_directory(p)) {
        for (const auto& e : std::filesystem::directory_iterator(p))
          if (e.is_regular_file()) corpus.push_back(read_file(e.path()));
      } else {
        corpus.push_back(read_file(p));
      }
    }
  }
  // Sanitizer reports (faults included) end in the death callback, failed checks and uncaught
  // exceptions in abort().
  __sanitizer_set_death_callback(dump_current);
  std::signal(SIGABRT, on_fatal_signal);
  const auto start = std::chrono::steady_clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
  long long done = 0;
  for (const Bytes& b : corpus) {
    run_one(b);
    ++done;
  }
  if (runs < 0 && max_time < 0) {
    if (!corpus.empty()) {
      std::fprintf(stderr, "Executed %lld inputs from the corpus\n", done);
      return 0;
    }
    runs = 100000;
  }
  std::mt19937_64 rng(static_cast<std::uint64_t>(seed));
  std::vector<Bytes> pool(corpus);
  const std::size_t len_cap = static_cast<std::size_t>(max_len);
  Bytes input;
  for (long long k = 0; runs < 0 || k < runs; ++k) {
    if ((k & 1023) == 0 && max_time >= 0 && elapsed() >= static_cast<double>(max_time)) break;
    if (pool.empty() || rng() % 4 == 0) {
      input.resize(rng() % (len_cap + 1));
      for (auto& byte : input) byte = static_cast<std::uint8_t>(rng());
    } else {
      input = pool[rng() % pool.size()];
      mutate(input, rng, len_cap, pool);
    }
    run_one(input);
    ++done;
    if (pool.size() < 4096) {
      pool.push_back(input);
    } else if (rng() % 16 == 0) {
      pool[rng() % pool.size()] = input;
    }
  }
  const double t = elapsed();
  std::fprintf(stderr, "Done %lld runs in %.0f second(s), %.0f exec/s, seed %lld\n", done, t,
               t > 0 ? static_cast<double>(done) / t : 0.0, seed);
  return 0;
}
