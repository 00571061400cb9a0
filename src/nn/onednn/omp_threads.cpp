// Reaches libgomp (loaded with libdnnl) through dlsym, so cd_nn needs no -fopenmp of its own.
#include "nn/onednn/omp_threads.hpp"

#include <dlfcn.h>

namespace comfydist::nn::onednn {

void set_omp_threads(int threads) {
  if (threads <= 0) {
    return;
  }
  using setter = void (*)(int);
  static const auto set = reinterpret_cast<setter>(dlsym(RTLD_DEFAULT, "omp_set_num_threads"));
  if (set != nullptr) {
    set(threads);
  }
}

int omp_threads() {
  using getter = int (*)();
  static const auto get = reinterpret_cast<getter>(dlsym(RTLD_DEFAULT, "omp_get_max_threads"));
  return get != nullptr ? get() : 1;
}

}  // namespace comfydist::nn::onednn
