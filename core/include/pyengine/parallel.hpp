// A minimal fork-join loop: splits [0, n) into contiguous chunks run on worker threads and
// rethrows the first exception a worker raised.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace pyengine {

// Number of worker threads for a request of `threads` (0 or less means all hardware threads).
inline unsigned resolve_threads(int threads) {
  if (threads > 0) return static_cast<unsigned>(threads);
  const unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1u : hw;
}

// Calls fn(begin, end) over contiguous chunks of [0, n). Chunks are at least `grain` long.
template <class Fn>
void parallel_for(std::size_t n, int threads, std::size_t grain, Fn&& fn) {
  if (n == 0) return;
  const std::size_t want = resolve_threads(threads);
  const std::size_t by_grain = std::max<std::size_t>(1, n / std::max<std::size_t>(grain, 1));
  const std::size_t workers = std::min(want, by_grain);
  if (workers <= 1) {
    fn(std::size_t{0}, n);
    return;
  }
  std::exception_ptr error;
  std::mutex error_mutex;
  std::vector<std::thread> pool;
  pool.reserve(workers);
  for (std::size_t w = 0; w < workers; ++w) {
    const std::size_t begin = n * w / workers;
    const std::size_t end = n * (w + 1) / workers;
    pool.emplace_back([&, begin, end] {
      try {
        fn(begin, end);
      } catch (...) {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (!error) error = std::current_exception();
      }
    });
  }
  for (auto& t : pool) t.join();
  if (error) std::rethrow_exception(error);
}

// Calls fn(i) for every i in [0, n), handing indices to workers one at a time (for uneven work).
template <class Fn>
void parallel_for_dynamic(std::size_t n, int threads, Fn&& fn) {
  if (n == 0) return;
  const std::size_t workers = std::min<std::size_t>(resolve_threads(threads), n);
  if (workers <= 1) {
    for (std::size_t i = 0; i < n; ++i) fn(i);
    return;
  }
  std::atomic<std::size_t> next{0};
  std::exception_ptr error;
  std::mutex error_mutex;
  std::vector<std::thread> pool;
  pool.reserve(workers);
  for (std::size_t w = 0; w < workers; ++w) {
    pool.emplace_back([&] {
      try {
        for (std::size_t i = next++; i < n; i = next++) fn(i);
      } catch (...) {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (!error) error = std::current_exception();
        next = n;
      }
    });
  }
  for (auto& t : pool) t.join();
  if (error) std::rethrow_exception(error);
}

}  // namespace pyengine
