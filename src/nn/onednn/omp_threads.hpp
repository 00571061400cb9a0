// Thread count for oneDNN's CPU runtime. Debian's libdnnl 2.6 is built with OpenMP
// (DNNL_CPU_RUNTIME == DNNL_RUNTIME_OMP), so the count is OpenMP's, set per calling thread.
#pragma once

namespace comfydist::nn::onednn {

// Sets the OpenMP thread count for parallel regions started from the calling thread (0: leave
// OpenMP's default, all cores). A no-op when the OpenMP runtime is not loaded.
void set_omp_threads(int threads);

// The OpenMP thread count parallel regions from the calling thread would use (1 if no runtime).
int omp_threads();

}  // namespace comfydist::nn::onednn
