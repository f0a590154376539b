// Skip-gram and CBOW with negative sampling (Mikolov et al. 2013), the SGD loop of
// rnnlab/nn/sgns.py compiled: one call trains on one chunk of the token stream, in place, with
// Hogwild threads (each thread takes its own run of whole sentences and updates the shared
// matrices without locks, as word2vec.c and gensim do). Registered as
// torch.ops.rnnlab_sgns.train_chunk.
//
// Symbols: V vocabulary, D dimension, N tokens in the chunk, K negatives, w the window.
//   w_in  (V, D)  the input vectors v_w (the word vectors kept afterwards)
//   w_out (V, D)  the output vectors u_w
//   ids   (N,)    int32 word ids, -1 between sentences (a window never crosses a -1)
//   keep  (V,)    float32 probability of keeping each word (subsampling of frequent words)
//   table (S,)    int32 ids drawn with probability ~ count^0.75 (the noise distribution)
// The equations, the same as sgns.py's readable torch engine:
//   skip-gram, for a context word c of centre word o:   h = v_c
//   CBOW, for centre word o:                            h = mean_{c in window} v_c
//   s_k = u_{t_k} . h with t_0 = o (label 1) and t_1..t_K ~ noise (label 0)
//   loss = -log sigma(s_0) - sum_k log sigma(-s_k)
//   g_k = lr * (label_k - sigma(s_k))                   (minus the loss gradient, times lr)
//   u_{t_k} += g_k h;   dh = sum_k g_k u_{t_k} (u before its update);   v_c += dh (each c)

#include <ATen/ATen.h>
#include <torch/library.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <cstdint>
#include <cstring>
#include <thread>
#include <vector>

namespace {

using at::Tensor;

// word2vec.c's linear congruential generator: every thread has its own, seeded per chunk
struct Lcg {
  uint64_t state;
  inline uint64_t next() {
    state = state * 25214903917ULL + 11ULL;
    return state;
  }
  inline float uniform() { return static_cast<float>((next() >> 16) & 0xFFFF) / 65536.0f; }
};

// 16 partial sums, so that the additions do not wait on each other (and vectorise)
inline float dot(const float* a, const float* b, int64_t D) {
  float part[16] = {0.0f};
  int64_t j = 0;
  for (; j + 16 <= D; j += 16) {
#pragma GCC ivdep
    for (int k = 0; k < 16; ++k) part[k] += a[j + k] * b[j + k];
  }
  float s = 0.0f;
  for (; j < D; ++j) s += a[j] * b[j];
  for (int k = 0; k < 16; ++k) s += part[k];
  return s;
}

inline void axpy(float g, const float* x, float* y, int64_t D) {
#pragma GCC ivdep
  for (int64_t j = 0; j < D; ++j) y[j] += g * x[j];
}


// log(x) for x >= 1, to ~1e-6: x = m 2^k with m in [1, 2), log m = 2 atanh(t), t = (m-1)/(m+1)
// <= 1/3, by its series to t^9 (the loss is only reported, and std::log1p cost 30% of the time)
inline float fast_log(float x) {
  uint32_t bits;
  std::memcpy(&bits, &x, 4);
  const int k = static_cast<int>((bits >> 23) & 0xFF) - 127;  // x = m 2^k
  bits = (bits & 0x7FFFFF) | 0x3F800000;
  float m;
  std::memcpy(&m, &bits, 4);
  const float t = (m - 1.0f) / (m + 1.0f);
  const float t2 = t * t;
  const float series =
      t * (2.0f + t2 * (2.0f / 3 + t2 * (2.0f / 5 + t2 * (2.0f / 7 + t2 * (2.0f / 9)))));
  return series + static_cast<float>(k) * 0.69314718f;
}

constexpr int64_t kMaxNegative = 64;

struct Shared {
  float* w_in;
  float* w_out;
  const int32_t* ids;
  const float* keep;
  const int32_t* table;
  int64_t table_size, D, window, negative;
  bool cbow;
  double lr_start, lr_end;
};

// One output update for hidden vector h and centre word o: the K+1 targets, dh accumulated.
// Returns the loss of these K+1 scores.
inline double output_step(const Shared& s, const float* h, int32_t o, float lr, Lcg& rng,
                          float* dh) {
  double loss = 0.0;
  // draw the targets first and ask for their rows, so the memory loads overlap
  int32_t targets[kMaxNegative + 1];
  const int64_t K = std::min<int64_t>(s.negative, kMaxNegative);
  targets[0] = o;
  for (int64_t k = 1; k <= K; ++k) {
    targets[k] = s.table[(rng.next() >> 16) % static_cast<uint64_t>(s.table_size)];
    const char* row = reinterpret_cast<const char*>(s.w_out + static_cast<int64_t>(targets[k]) * s.D);
    for (int64_t b = 0; b < s.D * 4; b += 64) __builtin_prefetch(row + b, 1);
  }
  for (int64_t k = 0; k <= K; ++k) {
    const int32_t t = targets[k];
    const float label = k == 0 ? 1.0f : 0.0f;
    if (k > 0 && t == o) continue;  // the centre word drawn as noise: skipped, as word2vec.c does
    float* u = s.w_out + static_cast<int64_t>(t) * s.D;
    // s_k = u_{t_k} . h   (clipped to +-20 for the exponential: sigma is 0 or 1 there)
    const float score = std::min(20.0f, std::max(-20.0f, dot(u, h, s.D)));
    // with e = exp(-s_k): sigma(s_k) = 1 / (1 + e); -log sigma(s_k) = log(1 + e), and
    // -log sigma(-s_k) = s_k + log(1 + e)
    const float e = std::exp(-score);
    const float log1pe = fast_log(1.0f + e);
    loss += label > 0.0f ? log1pe : score + log1pe;
    // g_k = lr * (label_k - sigma(s_k))
    const float g = lr * (label - 1.0f / (1.0f + e));
    // dh += g_k u_{t_k} (before u's update);  u_{t_k} += g_k h
    axpy(g, u, dh, s.D);
    axpy(g, h, u, s.D);
  }
  return loss;
}

// Train on tokens [begin, end) of the chunk (whole sentences); returns (loss sum, score count).
void train_part(const Shared& s, int64_t begin, int64_t end, uint64_t seed,
                double* loss_out, int64_t* pairs_out) {
  Lcg rng{seed};
  const int64_t D = s.D;
  std::vector<float> h(D), dh(D);
  std::vector<int32_t> sent;
  double loss = 0.0;
  int64_t pairs = 0;
  int64_t pos = begin;
  while (pos < end) {
    // one sentence, subsampled: keep word w with probability keep[w]
    sent.clear();
    const int64_t sentence_start = pos;
    for (; pos < end && s.ids[pos] >= 0; ++pos) {
      const int32_t w = s.ids[pos];
      if (s.keep[w] >= 1.0f || s.keep[w] >= rng.uniform()) sent.push_back(w);
    }
    ++pos;  // the -1 (or the end)
    // the learning rate falls linearly over each thread's run: lr_start at its first token,
    // lr_end at its last (the threads run side by side through the chunk)
    const double done = static_cast<double>(sentence_start - begin) /
                        static_cast<double>(std::max<int64_t>(1, end - begin));
    const float lr = static_cast<float>(s.lr_start + (s.lr_end - s.lr_start) * done);
    const int64_t L = static_cast<int64_t>(sent.size());
    for (int64_t i = 0; i < L; ++i) {
      // the reduced window: b uniform in [0, w), words within w - b of the centre
      const int64_t b = static_cast<int64_t>(rng.next() % static_cast<uint64_t>(s.window));
      const int64_t lo = std::max<int64_t>(0, i - s.window + b);
      const int64_t hi = std::min<int64_t>(L - 1, i + s.window - b);
      const int32_t o = sent[i];
      if (s.cbow) {
        // h = mean_{c in window} v_c
        std::fill(h.begin(), h.end(), 0.0f);
        int64_t count = 0;
        for (int64_t j = lo; j <= hi; ++j) {
          if (j == i) continue;
          axpy(1.0f, s.w_in + static_cast<int64_t>(sent[j]) * D, h.data(), D);
          ++count;
        }
        if (count == 0) continue;
        const float inv = 1.0f / static_cast<float>(count);
        for (int64_t d = 0; d < D; ++d) h[d] *= inv;
        std::fill(dh.begin(), dh.end(), 0.0f);
        loss += output_step(s, h.data(), o, lr, rng, dh.data());
        ++pairs;
        // v_c += dh for every context word c (word2vec.c's cbow: the mean's error, undivided)
        for (int64_t j = lo; j <= hi; ++j) {
          if (j == i) continue;
          axpy(1.0f, dh.data(), s.w_in + static_cast<int64_t>(sent[j]) * D, D);
        }
      } else {
        for (int64_t j = lo; j <= hi; ++j) {
          if (j == i) continue;
          // h = v_c: the context word predicts the centre word
          float* v = s.w_in + static_cast<int64_t>(sent[j]) * D;
          std::fill(dh.begin(), dh.end(), 0.0f);
          loss += output_step(s, v, o, lr, rng, dh.data());
          ++pairs;
          // v_c += dh
          axpy(1.0f, dh.data(), v, D);
        }
      }
    }
  }
  *loss_out = loss;
  *pairs_out = pairs;
}

// Returns a float64 tensor (2,): the summed loss and the number of (hidden, centre) updates.
Tensor train_chunk(Tensor w_in, Tensor w_out, const Tensor& ids, const Tensor& keep,
                   const Tensor& table, int64_t window, int64_t negative, bool cbow,
                   double lr_start, double lr_end, int64_t seed, int64_t threads) {
  TORCH_CHECK(w_in.dtype() == at::kFloat && w_out.dtype() == at::kFloat, "float32 matrices");
  TORCH_CHECK(w_in.is_contiguous() && w_out.is_contiguous(), "contiguous matrices");
  TORCH_CHECK(w_in.sizes() == w_out.sizes() && w_in.dim() == 2, "w_in, w_out: the same (V, D)");
  TORCH_CHECK(ids.dtype() == at::kInt && ids.is_contiguous() && ids.dim() == 1, "ids: int32 (N,)");
  TORCH_CHECK(keep.dtype() == at::kFloat && keep.numel() == w_in.size(0), "keep: float32 (V,)");
  TORCH_CHECK(table.dtype() == at::kInt && table.numel() > 0, "table: int32 (S,)");
  TORCH_CHECK(window >= 1 && negative >= 0 && negative <= kMaxNegative && threads >= 1,
              "window >= 1, 0 <= negative <= 64, threads >= 1");
  Shared s{w_in.data_ptr<float>(), w_out.data_ptr<float>(), ids.data_ptr<int32_t>(),
           keep.data_ptr<float>(), table.data_ptr<int32_t>(), table.numel(), w_in.size(1),
           window, negative, cbow, lr_start, lr_end};
  const int64_t N = ids.numel();
  // split at sentence ends into `threads` runs of about N / threads tokens
  std::vector<int64_t> bounds{0};
  for (int64_t t = 1; t < threads; ++t) {
    int64_t p = std::max(bounds.back(), N * t / threads);
    while (p < N && s.ids[p] >= 0) ++p;
    bounds.push_back(std::min(N, p + 1));
  }
  bounds.push_back(N);
  const int64_t parts = static_cast<int64_t>(bounds.size()) - 1;
  std::vector<double> losses(parts, 0.0);
  std::vector<int64_t> pairs(parts, 0);
  std::vector<std::thread> pool;
  for (int64_t t = 0; t < parts; ++t) {
    const uint64_t part_seed = static_cast<uint64_t>(seed) * 1000003ULL + static_cast<uint64_t>(t);
    if (t + 1 == parts) {
      train_part(s, bounds[t], bounds[t + 1], part_seed, &losses[t], &pairs[t]);
    } else {
      pool.emplace_back(train_part, std::cref(s), bounds[t], bounds[t + 1], part_seed,
                        &losses[t], &pairs[t]);
    }
  }
  for (auto& th : pool) th.join();
  double loss = 0.0;
  double count = 0.0;
  for (int64_t t = 0; t < parts; ++t) {
    loss += losses[t];
    count += static_cast<double>(pairs[t]);
  }
  Tensor out = at::empty({2}, at::TensorOptions().dtype(at::kDouble));
  out.data_ptr<double>()[0] = loss;
  out.data_ptr<double>()[1] = count;
  return out;
}

}  // namespace

TORCH_LIBRARY(rnnlab_sgns, m) {
  m.def("train_chunk(Tensor(a!) w_in, Tensor(b!) w_out, Tensor ids, Tensor keep, Tensor table, "
        "int window, int negative, bool cbow, float lr_start, float lr_end, int seed, "
        "int threads) -> Tensor");
  m.impl("train_chunk", c10::DispatchKey::CPU, TORCH_FN(train_chunk));
}
