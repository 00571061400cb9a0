// A fixed set of threads for CPU-heavy request work (image previews, upload checks), so that I/O
// threads never block on it. The queue is bounded: when full, submit() refuses.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace comfydist {

class task_pool {
 public:
  task_pool(std::size_t threads, std::size_t max_queued);
  ~task_pool();
  task_pool(const task_pool&) = delete;
  task_pool& operator=(const task_pool&) = delete;

  // Returns false (and drops the task) when the queue is full or the pool is stopping.
  bool submit(std::function<void()> task);
  void stop();

 private:
  void run();

  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> tasks_;
  std::size_t max_queued_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace comfydist
