// The sequential part of the BPTT Functions of rnnlab/nn/native_bptt.py, compiled: the time
// loops of RNN (tanh, relu), LSTM and GRU (reset_after true and false), forward and backward,
// one layer direction per call, registered as torch.ops.rnnlab_native.*.
//
// Symbols: T time, B batch, H hidden units. The equations are those of rnn_bptt.py,
// lstm_bptt.py and gru_bptt.py (the readable reference engine); each is quoted above the line
// that computes it. The products over all T*B rows (the input projection before the loop; dx,
// dW_ih, dW_hh and the biases after it) stay in Python. Here, per step: the recurrent GEMM into
// memory allocated before the loop (two for the Cho GRU; MKL's packed GEMM on the weight packed
// once per call, else ATen's addmm_), then ONE pass over the units that does every gate
// nonlinearity and state update (backward: every gate derivative) in registers. Batch rows never
// interact, so each thread runs the whole loop on its own block of rows (see for_blocks).
//
// Layouts (all row-major, contiguous):
//   gates (T, B, G*H)  the pre-activations a^x_t = W_ih x_t + b, overwritten by the activated
//                      gates when training (the cache backward reads); G = 1, 4 or 3.
//   hs, cs (T+1, B, H) states. Walking forward step t reads hs[t] and writes hs[t+1]; walking
//                      in reverse it reads hs[t+1] and writes hs[t] (h_0 at hs[T], the final
//                      state at hs[0]). Either way the previous states of all steps are one
//                      (T, B, H) slice, which dW_hh = sum_t da_t^T h_{t-1} needs.
//   mask (T, B)        1 at real steps, 0 at padding: a padded step keeps the state, outputs
//                      0, and in backward passes dh (and dc) straight to the step before.
//   out (T, B, H)      its own buffer, except when training without a mask: then the op
//                      returns it empty and the caller takes the slice of hs (out_t = h_t).
// Inference (train=false) keeps no caches: two (B, H) state buffers used in turn, the output.

#define TORCH_ASSERT_ONLY_METHOD_OPERATORS
#include <ATen/Parallel.h>
#include <ATen/core/Tensor.h>
#include <ATen/ops/from_blob.h>
#include <torch/library.h>

#include <cmath>
#include <cstdint>
#include <algorithm>
#include <cstring>
#include <type_traits>
#include <utility>
#include <vector>

namespace {

using at::Tensor;

#define RNNLAB_INLINE inline __attribute__((always_inline))
// Every loop over j below is elementwise (step j reads and writes index j only): no dependences
#define RNNLAB_SIMD _Pragma("GCC ivdep")

// ---- activations ---------------------------------------------------------------------------
// float: branch-free exp, sigmoid and tanh that the compiler vectorises (Cephes' polynomials,
// within ~2 ulp of the C library); double: the C library's (the float64 path is for gradcheck).

RNNLAB_INLINE float exp_f(float x) {
  // exp(x) = 2^n exp(r), n = round(x / ln 2), r = x - n ln 2 in [-ln2 / 2, ln2 / 2]
  x = x < -87.0f ? -87.0f : x;
  x = x > 88.0f ? 88.0f : x;
  float n = x * 1.44269504088896341f;
  n = (n + 12582912.0f) - 12582912.0f;  // round to nearest (1.5 * 2^23)
  float r = x - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * (r * r) + r + 1.0f;
  const int32_t bits = (static_cast<int32_t>(n) + 127) << 23;  // 2^n
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return p * scale;
}

RNNLAB_INLINE float tanh_f(float x) {
  const float a = x < 0.0f ? -x : x;
  // |x| >= 0.625: tanh|x| = 1 - 2 / (exp(2|x|) + 1)  (|x| > 9 rounds to 1)
  const float e = exp_f(2.0f * (a > 9.0f ? 9.0f : a));
  const float big = 1.0f - 2.0f / (e + 1.0f);
  // |x| < 0.625: tanh|x| = |x| + |x|^3 P(x^2)
  const float z = x * x;
  float p = -5.70498872745e-3f;
  p = p * z + 2.06390887954e-2f;
  p = p * z - 5.37397155531e-2f;
  p = p * z + 1.33314422036e-1f;
  p = p * z - 3.33332819422e-1f;
  const float small = a + a * z * p;
  const float t = a < 0.625f ? small : big;
  return x < 0.0f ? -t : t;
}

template <typename T>
struct Act;

template <>
struct Act<float> {
  static RNNLAB_INLINE float sigmoid(float x) { return 1.0f / (1.0f + exp_f(-x)); }
  static RNNLAB_INLINE float tanh(float x) { return tanh_f(x); }
};

template <>
struct Act<double> {
  static RNNLAB_INLINE double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }
  static RNNLAB_INLINE double tanh(double x) { return std::tanh(x); }
};

// ---- helpers -------------------------------------------------------------------------------

// Step t's previous and new state in hs (T+1, B, H), walking forward or in reverse.
struct Walk {
  int64_t T;
  bool reverse;
  int64_t step(int64_t k) const { return reverse ? T - 1 - k : k; }  // k-th step taken
  int64_t prev(int64_t t) const { return reverse ? t + 1 : t; }
  int64_t next(int64_t t) const { return reverse ? t : t + 1; }
  int64_t first() const { return reverse ? T : 0; }  // h_0
  int64_t last() const { return reverse ? 0 : T; }  // h_n
};

template <typename T>
T* ptr(const Tensor& t) {
  return t.defined() ? t.data_ptr<T>() : nullptr;
}

void check(const Tensor& t, const Tensor& like, const char* name) {
  TORCH_CHECK(t.device().is_cpu(), "rnnlab native: ", name, " must be on the CPU");
  TORCH_CHECK(t.scalar_type() == like.scalar_type(), "rnnlab native: ", name, " has dtype ",
              t.scalar_type(), ", expected ", like.scalar_type());
  TORCH_CHECK(t.is_contiguous(), "rnnlab native: ", name, " must be contiguous");
}

void check_opt(const std::optional<Tensor>& t, const Tensor& like, const char* name) {
  if (t.has_value() && t->defined()) check(*t, like, name);
}

Tensor value_or_undefined(const std::optional<Tensor>& t) {
  return t.has_value() ? *t : Tensor();
}

// Batch rows never interact: row b of step t depends only on row b of step t-1. So each thread
// takes a block of rows and runs the whole time loop on it (the GEMMs on its rows, the fused
// passes on its rows) with no synchronisation between steps: one parallel region per call, not
// per step. One block when there is little work, one row or one thread.
constexpr int64_t kParallelMacs = 1 << 20;  // T*B*H*H multiply-adds below this: one thread

struct Blocks {
  int64_t n, rows;  // number of blocks, rows per block (the last may have fewer)
};

Blocks blocks(int64_t B, int64_t macs) {
  const int64_t threads = at::in_parallel_region() ? 1 : at::get_num_threads();
  if (B < 2 || threads < 2 || macs < kParallelMacs) return {1, B};
  const int64_t rows = (B + std::min(threads, B) - 1) / std::min(threads, B);
  return {(B + rows - 1) / rows, rows};
}

// f(b0, b1) on every block [b0, b1), the blocks on torch's threads.
template <typename F>
void for_blocks(const Blocks& bl, int64_t B, const F& f) {
  if (bl.n == 1) {
    f(int64_t{0}, B);
    return;
  }
  at::parallel_for(0, bl.n, 1, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) f(i * bl.rows, std::min(B, (i + 1) * bl.rows));
  });
}

// ---- the per-step recurrent GEMM -----------------------------------------------------------
// float32 on a torch built with MKL (the x86 wheels link it in and export its CBLAS): the weight
// is packed once per call (cblas_sgemm_pack) and every step multiplies by the packed copy
// (cblas_sgemm_compute), with neither re-packing nor a dispatcher call per step. Elsewhere, and
// for float64, ATen's addmm_ on views of the same memory. Declared weak: absent symbols are null.

extern "C" {
size_t cblas_sgemm_pack_get_size(int identifier, int m, int n, int k) __attribute__((weak));
void cblas_sgemm_pack(int layout, int identifier, int trans, int m, int n, int k, float alpha,
                      const float* src, int ld, float* dest) __attribute__((weak));
void cblas_sgemm_compute(int layout, int transa, int transb, int m, int n, int k, const float* a,
                         int lda, const float* b, int ldb, float beta, float* c, int ldc)
    __attribute__((weak));
}
constexpr int kRowMajor = 101, kNoTrans = 111, kTrans = 112, kPacked = 151, kBMatrix = 162;
constexpr int64_t kPackMinSteps = 3;  // a one- or two-step call (a cell) is not worth packing
bool g_use_packed = true;  // tests switch it off to run the ATen path on float32 too

bool mkl_packed_available() {
  return cblas_sgemm_pack_get_size != nullptr && cblas_sgemm_pack != nullptr &&
         cblas_sgemm_compute != nullptr;
}

// C (m, N) = beta C + A (m, K) @ W^T (transpose, W stored (N, K)) or @ W (W stored (K, N)), with
// A and C given by pointer and leading dimension (row stride), m <= M rows (one block's).
template <typename T>
class StepGemm {
 public:
  StepGemm(const Tensor& w, bool transpose, int64_t M, int64_t steps)
      : b_(transpose ? w.t() : w), M_(M), N_(b_.size(1)), K_(b_.size(0)) {
    if constexpr (std::is_same_v<T, float>) {
      if (g_use_packed && steps >= kPackMinSteps && mkl_packed_available() && w.stride(1) == 1) {
        const size_t bytes = cblas_sgemm_pack_get_size(kBMatrix, M_, N_, K_);
        packed_ = w.new_empty({static_cast<int64_t>(bytes / sizeof(float)) + 16});
        cblas_sgemm_pack(kRowMajor, kBMatrix, transpose ? kTrans : kNoTrans, M_, N_, K_, 1.0f,
                         w.data_ptr<float>(), w.stride(0), packed_.data_ptr<float>());
      }
    }
  }

  void operator()(int64_t m, T* c, int64_t ldc, const T* a, int64_t lda, double beta) const {
    if constexpr (std::is_same_v<T, float>) {
      if (packed_.defined()) {
        cblas_sgemm_compute(kRowMajor, kNoTrans, kPacked, m, N_, K_, a, lda,
                            packed_.data_ptr<float>(), N_, static_cast<float>(beta), c, ldc);
        return;
      }
    }
    const auto opt = b_.options();
    at::from_blob(c, {m, N_}, {ldc, 1}, opt)
        .addmm_(at::from_blob(const_cast<T*>(a), {m, K_}, {lda, 1}, opt), b_, beta, 1.0);
  }

 private:
  Tensor b_;  // (K, N) view of the weight
  int64_t M_, N_, K_;
  Tensor packed_;  // MKL's packed copy of b_, or undefined
};

// State buffers: training keeps every step's state in hs (T+1, B, H) (see the top of this file);
// inference two (B, H) buffers used in turn: step k reads h_0 or buf[(k-1) % 2], writes buf[k % 2].
template <typename T>
struct States {
  Walk walk;
  bool train;
  const T* h0;
  T* buf;  // hs (T+1, B, H) or (2, B, H)
  int64_t BH;
  const T* prev(int64_t k) const {
    if (train) return buf + walk.prev(walk.step(k)) * BH;
    return k == 0 ? h0 : buf + ((k - 1) % 2) * BH;
  }
  T* next(int64_t k) const {
    return buf + (train ? walk.next(walk.step(k)) : k % 2) * BH;
  }
};

// hs for training (h_0 copied in at its place) or the two inference buffers.
template <typename T>
std::pair<Tensor, States<T>> states(const Tensor& h0, const Walk& walk, bool train) {
  const int64_t B = h0.size(0), H = h0.size(1);
  Tensor buf = h0.new_empty({train ? walk.T + 1 : 2, B, H});
  if (train) buf.select(0, walk.first()).copy_(h0);
  return {buf, States<T>{walk, train, h0.data_ptr<T>(), buf.data_ptr<T>(), B * H}};
}

// The output's own buffer; empty when training without a mask, where out_t = h_t is a slice of
// hs that the caller takes (an op's outputs must not alias each other).
Tensor output(const Tensor& hs, const Tensor& mask, const Walk& walk, bool train) {
  if (train && !mask.defined()) return hs.new_empty({0});
  return hs.new_empty({walk.T, hs.size(1), hs.size(2)});
}

Tensor final_state(const Tensor& buf, const Walk& walk, bool train) {
  if (train) return buf.select(0, walk.last()).clone();
  return buf.select(0, (walk.T - 1) % 2);
}

// ---- RNN -----------------------------------------------------------------------------------

// h_t = phi(a_t) for one step, on rows [0, B); g holds a_t and becomes h~_t.
template <typename T, bool RELU>
void rnn_cells(T* g, const T* hp, T* hn, T* out, const T* m, int64_t b0, int64_t b1, int64_t H) {
  for (int64_t b = b0; b < b1; ++b) {
    T* __restrict gb = g + b * H;
    const T* __restrict hpb = hp + b * H;
    T* __restrict hnb = hn + b * H;
    T* __restrict ob = out ? out + b * H : nullptr;
    if (m && m[b] == T(0)) {
      // padded: h_t = h_{t-1}, out_t = 0
      RNNLAB_SIMD
      for (int64_t j = 0; j < H; ++j) hnb[j] = hpb[j];
      if (ob)
        RNNLAB_SIMD
        for (int64_t j = 0; j < H; ++j) ob[j] = T(0);
      continue;
    }
    RNNLAB_SIMD
    for (int64_t j = 0; j < H; ++j) {
      const T a = gb[j];
      // h_t = phi(a^x_t + W_hh h_{t-1}),  phi = tanh or relu
      const T h = RELU ? (a < T(0) ? T(0) : a) : Act<T>::tanh(a);
      gb[j] = h;
      hnb[j] = h;
    }
    if (ob)
      RNNLAB_SIMD
      for (int64_t j = 0; j < H; ++j) ob[j] = hnb[j];
  }
}

template <typename T, bool RELU>
std::vector<Tensor> rnn_forward_impl(const Tensor& gates, const Tensor& w_hh, const Tensor& h0,
                                     const Tensor& mask, bool reverse, bool train) {
  const int64_t T_ = gates.size(0), B = gates.size(1), H = gates.size(2), BH = B * H;
  const Walk walk{T_, reverse};
  const T* m = ptr<T>(mask);
  auto [buf, st] = states<T>(h0, walk, train);
  Tensor out = output(buf, mask, walk, train);
  T* g = gates.data_ptr<T>();
  T* o = (train && !mask.defined()) ? nullptr : out.data_ptr<T>();
  const Blocks bl = blocks(B, T_ * BH * H);
  const StepGemm<T> gemm(w_hh, /*transpose=*/true, bl.rows, T_);  // (rows, H) @ W_hh^T
  for_blocks(bl, B, [&](int64_t b0, int64_t b1) {
    for (int64_t k = 0; k < T_; ++k) {
      const int64_t t = walk.step(k);
      T* gt = g + t * BH;  // (B, H)
      const T* h_prev = st.prev(k);
      // a_t = a^x_t + W_hh h_{t-1}
      gemm(b1 - b0, gt + b0 * H, H, h_prev + b0 * H, H, 1.0);
      rnn_cells<T, RELU>(gt, h_prev, st.next(k), o ? o + t * BH : nullptr,
                         m ? m + t * B : nullptr, b0, b1, H);
    }
  });
  Tensor h_n = final_state(buf, walk, train);
  if (train) return {out, h_n, buf};
  return {out, h_n};
}

std::vector<Tensor> rnn_forward(const Tensor& gates, const Tensor& w_hh, const Tensor& h0,
                                const std::optional<Tensor>& mask, bool relu, bool reverse,
                                bool train) {
  check(gates, w_hh, "gates");
  check(h0, w_hh, "h0");
  check_opt(mask, w_hh, "mask");
  const Tensor m = value_or_undefined(mask);
  if (w_hh.scalar_type() == at::kFloat)
    return relu ? rnn_forward_impl<float, true>(gates, w_hh, h0, m, reverse, train)
                : rnn_forward_impl<float, false>(gates, w_hh, h0, m, reverse, train);
  TORCH_CHECK(w_hh.scalar_type() == at::kDouble, "rnnlab native: float32 or float64 only");
  return relu ? rnn_forward_impl<double, true>(gates, w_hh, h0, m, reverse, train)
              : rnn_forward_impl<double, false>(gates, w_hh, h0, m, reverse, train);
}

// da_t = dh_t phi'(a_t) for one step; dh becomes the direct part of dh_{t-1} (0 at real rows).
template <typename T, bool RELU>
void rnn_cells_backward(const T* g, const T* dout, T* dh, T* dg, T* steps, const T* m,
                        int64_t b0, int64_t b1, int64_t H) {
  for (int64_t b = b0; b < b1; ++b) {
    const T* __restrict gb = g + b * H;
    const T* __restrict dob = dout ? dout + b * H : nullptr;
    T* __restrict dhb = dh + b * H;
    T* __restrict dgb = dg + b * H;
    T* __restrict sb = steps ? steps + b * H : nullptr;
    if (m && m[b] == T(0)) {
      // padded: no gradient into the step, dh passes straight to h_{t-1}
      RNNLAB_SIMD
      for (int64_t j = 0; j < H; ++j) dgb[j] = T(0);
      if (sb)
        RNNLAB_SIMD
        for (int64_t j = 0; j < H; ++j) sb[j] = T(0);
      continue;
    }
    if (dob)  // dL/dh~_t = dh_t + dL/dout_t
      RNNLAB_SIMD
      for (int64_t j = 0; j < H; ++j) dhb[j] += dob[j];
    if (sb)
      RNNLAB_SIMD
      for (int64_t j = 0; j < H; ++j) sb[j] = dhb[j];
    RNNLAB_SIMD
    for (int64_t j = 0; j < H; ++j) {
      const T h = gb[j];
      // da_t = dh_t * phi'(a_t):  tanh: 1 - h_t^2 ; relu: [h_t > 0]
      dgb[j] = RELU ? (h > T(0) ? dhb[j] : T(0)) : dhb[j] * (T(1) - h * h);
      dhb[j] = T(0);
    }
  }
}

template <typename T, bool RELU>
Tensor rnn_backward_impl(const Tensor& dout, const Tensor& dh_n, const Tensor& gates,
                         const Tensor& w_hh, const Tensor& mask, bool reverse, const Tensor& dgates,
                         const Tensor& steps) {
  const int64_t T_ = gates.size(0), B = gates.size(1), H = gates.size(2), BH = B * H;
  const Walk walk{T_, reverse};
  const T* m = ptr<T>(mask);
  const T *g = gates.data_ptr<T>(), *d = ptr<T>(dout);
  T *dg = dgates.data_ptr<T>(), *s = ptr<T>(steps);
  Tensor dh_ = dh_n.defined() ? dh_n.clone() : gates.new_zeros({B, H});  // dL/dh_t, running
  T* dh = dh_.data_ptr<T>();
  const Blocks bl = blocks(B, T_ * BH * H);
  const StepGemm<T> gemm(w_hh, /*transpose=*/false, bl.rows, T_);  // (rows, H) @ W_hh
  for_blocks(bl, B, [&](int64_t b0, int64_t b1) {
    for (int64_t k = T_ - 1; k >= 0; --k) {
      const int64_t t = walk.step(k), o = t * BH;
      rnn_cells_backward<T, RELU>(g + o, d ? d + o : nullptr, dh, dg + o, s ? s + o : nullptr,
                                  m ? m + t * B : nullptr, b0, b1, H);
      // dh_{t-1} = da_t W_hh  (+ dh_t at padded rows)
      gemm(b1 - b0, dh + b0 * H, H, dg + o + b0 * H, H, 1.0);
    }
  });
  return dh_;
}

Tensor rnn_backward(const std::optional<Tensor>& dout, const std::optional<Tensor>& dh_n,
                    const Tensor& gates, const Tensor& w_hh, const std::optional<Tensor>& mask,
                    bool relu, bool reverse, const Tensor& dgates, const std::optional<Tensor>& steps) {
  check(gates, w_hh, "gates");
  check(dgates, w_hh, "dgates");
  check_opt(dout, w_hh, "dout");
  check_opt(dh_n, w_hh, "dh_n");
  check_opt(mask, w_hh, "mask");
  check_opt(steps, w_hh, "steps");
  const Tensor d = value_or_undefined(dout), dh = value_or_undefined(dh_n),
               m = value_or_undefined(mask), s = value_or_undefined(steps);
  if (w_hh.scalar_type() == at::kFloat)
    return relu ? rnn_backward_impl<float, true>(d, dh, gates, w_hh, m, reverse, dgates, s)
                : rnn_backward_impl<float, false>(d, dh, gates, w_hh, m, reverse, dgates, s);
  TORCH_CHECK(w_hh.scalar_type() == at::kDouble, "rnnlab native: float32 or float64 only");
  return relu ? rnn_backward_impl<double, true>(d, dh, gates, w_hh, m, reverse, dgates, s)
              : rnn_backward_impl<double, false>(d, dh, gates, w_hh, m, reverse, dgates, s);
}

// ---- LSTM ----------------------------------------------------------------------------------

// One LSTM step on rows [0, B): g (B, 4H) holds a_t = (a_i, a_f, a_g, a_o) and becomes
// (i_t, f_t, g_t, o_t).
template <typename T>
void lstm_cells(T* g, const T* hp, const T* cp, T* hn, T* cn, T* out, const T* m, int64_t b0, int64_t b1,
                int64_t H) {
  for (int64_t b = b0; b < b1; ++b) {
    T* __restrict ai = g + b * 4 * H;
    T* __restrict af = ai + H;
    T* __restrict ag = ai + 2 * H;
    T* __restrict ao = ai + 3 * H;
    const T* __restrict hpb = hp + b * H;
    const T* __restrict cpb = cp + b * H;
    T* __restrict hnb = hn + b * H;
    T* __restrict cnb = cn + b * H;
    T* __restrict ob = out ? out + b * H : nullptr;
    if (m && m[b] == T(0)) {
      // padded: h_t = h_{t-1}, c_t = c_{t-1}, out_t = 0
      RNNLAB_SIMD
      for (int64_t j = 0; j < H; ++j) {
        hnb[j] = hpb[j];
        cnb[j] = cpb[j];
      }
      if (ob)
        RNNLAB_SIMD
        for (int64_t j = 0; j < H; ++j) ob[j] = T(0);
      continue;
    }
    RNNLAB_SIMD
    for (int64_t j = 0; j < H; ++j) {
      // i_t = sigmoid(a_i) ; f_t = sigmoid(a_f) ; g_t = tanh(a_g) ; o_t = sigmoid(a_o)
      const T i = Act<T>::sigmoid(ai[j]);
      const T f = Act<T>::sigmoid(af[j]);
      const T gg = Act<T>::tanh(ag[j]);
      const T o = Act<T>::sigmoid(ao[j]);
      // c_t = f_t * c_{t-1} + i_t * g_t
      const T c = f * cpb[j] + i * gg;
      // h_t = o_t * tanh(c_t)
      const T h = o * Act<T>::tanh(c);
      ai[j] = i;
      af[j] = f;
      ag[j] = gg;
      ao[j] = o;
      cnb[j] = c;
      hnb[j] = h;
    }
    if (ob)
      RNNLAB_SIMD
      for (int64_t j = 0; j < H; ++j) ob[j] = hnb[j];
  }
}

template <typename T>
std::vector<Tensor> lstm_forward_impl(const Tensor& gates, const Tensor& w_hh, const Tensor& h0,
                                      const Tensor& c0, const Tensor& mask, bool reverse,
                                      bool train) {
  const int64_t T_ = gates.size(0), B = gates.size(1), H = gates.size(2) / 4, BH = B * H;
  const Walk walk{T_, reverse};
  const T* m = ptr<T>(mask);
  auto [hbuf, hst] = states<T>(h0, walk, train);
  auto [cbuf, cst] = states<T>(c0, walk, train);
  Tensor out = output(hbuf, mask, walk, train);
  T* g = gates.data_ptr<T>();
  T* o = (train && !mask.defined()) ? nullptr : out.data_ptr<T>();
  const Blocks bl = blocks(B, T_ * 4 * BH * H);
  const StepGemm<T> gemm(w_hh, /*transpose=*/true, bl.rows, T_);  // (rows, H) @ W_hh^T
  for_blocks(bl, B, [&](int64_t b0, int64_t b1) {
    for (int64_t k = 0; k < T_; ++k) {
      const int64_t t = walk.step(k);
      T* gt = g + t * 4 * BH;  // (B, 4H)
      const T* h_prev = hst.prev(k);
      // a_t = a^x_t + W_hh h_{t-1}
      gemm(b1 - b0, gt + b0 * 4 * H, 4 * H, h_prev + b0 * H, H, 1.0);
      lstm_cells<T>(gt, h_prev, cst.prev(k), hst.next(k), cst.next(k),
                    o ? o + t * BH : nullptr, m ? m + t * B : nullptr, b0, b1, H);
    }
  });
  Tensor h_n = final_state(hbuf, walk, train), c_n = final_state(cbuf, walk, train);
  if (train) return {out, h_n, c_n, hbuf, cbuf};
  return {out, h_n, c_n};
}

std::vector<Tensor> lstm_forward(const Tensor& gates, const Tensor& w_hh, const Tensor& h0,
                                 const Tensor& c0, const std::optional<Tensor>& mask,
                                 bool reverse, bool train) {
  check(gates, w_hh, "gates");
  check(h0, w_hh, "h0");
  check(c0, w_hh, "c0");
  check_opt(mask, w_hh, "mask");
  const Tensor m = value_or_undefined(mask);
  if (w_hh.scalar_type() == at::kFloat)
    return lstm_forward_impl<float>(gates, w_hh, h0, c0, m, reverse, train);
  TORCH_CHECK(w_hh.scalar_type() == at::kDouble, "rnnlab native: float32 or float64 only");
  return lstm_forward_impl<double>(gates, w_hh, h0, c0, m, reverse, train);
}

// One LSTM step backward on rows [0, B): dh, dc (B, H) hold dL/dh_t, dL/dc_t from the later
// steps and become dL/dc_{t-1} and the direct part of dL/dh_{t-1}; dg (B, 4H) gets da_t.
template <typename T>
void lstm_cells_backward(const T* g, const T* cp, const T* cn, const T* dout, T* dh, T* dc,
                         T* dg, T* steps, const T* m, int64_t b0, int64_t b1, int64_t H) {
  for (int64_t b = b0; b < b1; ++b) {
    const T* __restrict gi = g + b * 4 * H;
    const T* __restrict gf = gi + H;
    const T* __restrict gg = gi + 2 * H;
    const T* __restrict go = gi + 3 * H;
    const T* __restrict cpb = cp + b * H;
    const T* __restrict cnb = cn + b * H;
    const T* __restrict dob = dout ? dout + b * H : nullptr;
    T* __restrict dhb = dh + b * H;
    T* __restrict dcb = dc + b * H;
    T* __restrict di = dg + b * 4 * H;
    T* __restrict df = di + H;
    T* __restrict dgg = di + 2 * H;
    T* __restrict dout_o = di + 3 * H;
    T* __restrict sb = steps ? steps + b * H : nullptr;
    if (m && m[b] == T(0)) {
      // padded: no gradient into the step; dh and dc pass straight to step t-1
      RNNLAB_SIMD
      for (int64_t j = 0; j < 4 * H; ++j) di[j] = T(0);
      if (sb)
        RNNLAB_SIMD
        for (int64_t j = 0; j < H; ++j) sb[j] = T(0);
      continue;
    }
    if (dob)  // dL/dh~_t = dh_t + dL/dout_t
      RNNLAB_SIMD
      for (int64_t j = 0; j < H; ++j) dhb[j] += dob[j];
    if (sb)
      RNNLAB_SIMD
      for (int64_t j = 0; j < H; ++j) sb[j] = dhb[j];
    RNNLAB_SIMD
    for (int64_t j = 0; j < H; ++j) {
      const T i = gi[j], f = gf[j], gv = gg[j], o = go[j], dht = dhb[j];
      const T tc = Act<T>::tanh(cnb[j]);
      // do_t = dh_t * tanh(c_t)
      const T d_o = dht * tc;
      // dc_t += dh_t * o_t * (1 - tanh^2(c_t))
      const T dct = dcb[j] + dht * o * (T(1) - tc * tc);
      // di_t = dc_t * g_t ; df_t = dc_t * c_{t-1} ; dg_t = dc_t * i_t
      // da_{i,f,o} = d{i,f,o} s (1 - s) ; da_g = dg_t (1 - g_t^2)
      di[j] = dct * gv * i * (T(1) - i);
      df[j] = dct * cpb[j] * f * (T(1) - f);
      dgg[j] = dct * i * (T(1) - gv * gv);
      dout_o[j] = d_o * o * (T(1) - o);
      // dc_{t-1} = dc_t * f_t
      dcb[j] = dct * f;
      dhb[j] = T(0);  // dh_{t-1} = da_t W_hh: the GEMM adds it
    }
  }
}

template <typename T>
std::vector<Tensor> lstm_backward_impl(const Tensor& dout, const Tensor& dh_n,
                                       const Tensor& dc_n, const Tensor& gates, const Tensor& hs,
                                       const Tensor& cs, const Tensor& w_hh, const Tensor& mask,
                                       bool reverse, const Tensor& dgates, const Tensor& steps) {
  const int64_t T_ = gates.size(0), B = gates.size(1), H = gates.size(2) / 4, BH = B * H;
  const Walk walk{T_, reverse};
  const T* m = ptr<T>(mask);
  const T *g = gates.data_ptr<T>(), *c = cs.data_ptr<T>(), *d = ptr<T>(dout);
  T *dg = dgates.data_ptr<T>(), *s = ptr<T>(steps);
  Tensor dh_ = dh_n.defined() ? dh_n.clone() : gates.new_zeros({B, H});  // dL/dh_t, running
  Tensor dc_ = dc_n.defined() ? dc_n.clone() : gates.new_zeros({B, H});  // dL/dc_t, running
  T *dh = dh_.data_ptr<T>(), *dc = dc_.data_ptr<T>();
  const Blocks bl = blocks(B, T_ * 4 * BH * H);
  const StepGemm<T> gemm(w_hh, /*transpose=*/false, bl.rows, T_);  // (rows, 4H) @ W_hh
  for_blocks(bl, B, [&](int64_t b0, int64_t b1) {
    for (int64_t k = T_ - 1; k >= 0; --k) {
      const int64_t t = walk.step(k);
      T* dgt = dg + t * 4 * BH;  // (B, 4H)
      lstm_cells_backward<T>(g + t * 4 * BH, c + walk.prev(t) * BH, c + walk.next(t) * BH,
                             d ? d + t * BH : nullptr, dh, dc, dgt, s ? s + t * BH : nullptr,
                             m ? m + t * B : nullptr, b0, b1, H);
      // dh_{t-1} = da_t W_hh  (+ dh_t at padded rows)
      gemm(b1 - b0, dh + b0 * H, H, dgt + b0 * 4 * H, 4 * H, 1.0);
    }
  });
  return {dh_, dc_};
}

std::vector<Tensor> lstm_backward(const std::optional<Tensor>& dout,
                                  const std::optional<Tensor>& dh_n,
                                  const std::optional<Tensor>& dc_n, const Tensor& gates,
                                  const Tensor& hs, const Tensor& cs, const Tensor& w_hh,
                                  const std::optional<Tensor>& mask, bool reverse, const Tensor& dgates,
                                  const std::optional<Tensor>& steps) {
  check(gates, w_hh, "gates");
  check(hs, w_hh, "hs");
  check(cs, w_hh, "cs");
  check(dgates, w_hh, "dgates");
  check_opt(dout, w_hh, "dout");
  check_opt(dh_n, w_hh, "dh_n");
  check_opt(dc_n, w_hh, "dc_n");
  check_opt(mask, w_hh, "mask");
  check_opt(steps, w_hh, "steps");
  const Tensor d = value_or_undefined(dout), dh = value_or_undefined(dh_n),
               dc = value_or_undefined(dc_n), m = value_or_undefined(mask),
               s = value_or_undefined(steps);
  if (w_hh.scalar_type() == at::kFloat)
    return lstm_backward_impl<float>(d, dh, dc, gates, hs, cs, w_hh, m, reverse, dgates, s);
  TORCH_CHECK(w_hh.scalar_type() == at::kDouble, "rnnlab native: float32 or float64 only");
  return lstm_backward_impl<double>(d, dh, dc, gates, hs, cs, w_hh, m, reverse, dgates, s);
}

// ---- GRU -----------------------------------------------------------------------------------

// reset_after: g (B, 3H) holds a^x_t = (a^x_r, a^x_z, a^x_n) (b_hr, b_hz folded in) and becomes
// (r_t, z_t, n_t); ah (B, 3H) = W_hh h_{t-1}; aux (B, H) gets W_hn h_{t-1} + b_hn.
template <typename T>
void gru_cells_after(T* g, const T* ah, const T* b_hn, const T* hp, T* hn, T* aux, T* out,
                     const T* m, int64_t b0, int64_t b1, int64_t H) {
  for (int64_t b = b0; b < b1; ++b) {
    T* __restrict gr = g + b * 3 * H;
    T* __restrict gz = gr + H;
    T* __restrict gn = gr + 2 * H;
    const T* __restrict ahr = ah + b * 3 * H;
    const T* __restrict ahz = ahr + H;
    const T* __restrict ahn = ahr + 2 * H;
    const T* __restrict bn = b_hn;
    const T* __restrict hpb = hp + b * H;
    T* __restrict hnb = hn + b * H;
    T* __restrict xb = aux + b * H;
    T* __restrict ob = out ? out + b * H : nullptr;
    if (m && m[b] == T(0)) {
      // padded: h_t = h_{t-1}, out_t = 0
      RNNLAB_SIMD
      for (int64_t j = 0; j < H; ++j) hnb[j] = hpb[j];
      if (ob)
        RNNLAB_SIMD
        for (int64_t j = 0; j < H; ++j) ob[j] = T(0);
      continue;
    }
    RNNLAB_SIMD
    for (int64_t j = 0; j < H; ++j) {
      // r_t = sigmoid(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr)
      const T r = Act<T>::sigmoid(gr[j] + ahr[j]);
      // z_t = sigmoid(W_iz x_t + b_iz + W_hz h_{t-1} + b_hz)
      const T z = Act<T>::sigmoid(gz[j] + ahz[j]);
      // n_t = tanh(W_in x_t + b_in + r_t * (W_hn h_{t-1} + b_hn))
      const T hn_ = ahn[j] + bn[j];
      const T n = Act<T>::tanh(gn[j] + r * hn_);
      // h_t = (1 - z_t) n_t + z_t h_{t-1} = n_t + z_t (h_{t-1} - n_t)
      const T h = n + z * (hpb[j] - n);
      gr[j] = r;
      gz[j] = z;
      gn[j] = n;
      xb[j] = hn_;
      hnb[j] = h;
    }
    if (ob)
      RNNLAB_SIMD
      for (int64_t j = 0; j < H; ++j) ob[j] = hnb[j];
  }
}

// reset_before, first half: g (B, 3H) holds a^x_t (all of b_hh folded in); ah (B, 2H) =
// W_h{r,z} h_{t-1}. r_t, z_t go to g; rh (B, H) gets r_t * h_{t-1}.
template <typename T>
void gru_cells_before_rz(T* g, const T* ah, const T* hp, T* rh, int64_t b0, int64_t b1, int64_t H) {
  for (int64_t b = b0; b < b1; ++b) {
    T* __restrict gr = g + b * 3 * H;
    T* __restrict gz = gr + H;
    const T* __restrict ahr = ah + b * 2 * H;
    const T* __restrict ahz = ahr + H;
    const T* __restrict hpb = hp + b * H;
    T* __restrict rhb = rh + b * H;
    RNNLAB_SIMD
    for (int64_t j = 0; j < H; ++j) {
      // r_t = sigmoid(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr)
      const T r = Act<T>::sigmoid(gr[j] + ahr[j]);
      // z_t = sigmoid(W_iz x_t + b_iz + W_hz h_{t-1} + b_hz)
      gz[j] = Act<T>::sigmoid(gz[j] + ahz[j]);
      gr[j] = r;
      rhb[j] = r * hpb[j];
    }
  }
}

// reset_before, second half: an (B, H) = W_hn (r_t * h_{t-1}); n_t and h_t.
template <typename T>
void gru_cells_before_n(T* g, const T* an, const T* hp, T* hn, T* out, const T* m, int64_t b0, int64_t b1,
                        int64_t H) {
  for (int64_t b = b0; b < b1; ++b) {
    const T* __restrict gz = g + b * 3 * H + H;
    T* __restrict gn = g + b * 3 * H + 2 * H;
    const T* __restrict anb = an + b * H;
    const T* __restrict hpb = hp + b * H;
    T* __restrict hnb = hn + b * H;
    T* __restrict ob = out ? out + b * H : nullptr;
    if (m && m[b] == T(0)) {
      RNNLAB_SIMD
      for (int64_t j = 0; j < H; ++j) hnb[j] = hpb[j];
      if (ob)
        RNNLAB_SIMD
        for (int64_t j = 0; j < H; ++j) ob[j] = T(0);
      continue;
    }
    RNNLAB_SIMD
    for (int64_t j = 0; j < H; ++j) {
      // n_t = tanh(W_in x_t + b_in + W_hn (r_t * h_{t-1}) + b_hn)
      const T n = Act<T>::tanh(gn[j] + anb[j]);
      // h_t = n_t + z_t (h_{t-1} - n_t)
      const T h = n + gz[j] * (hpb[j] - n);
      gn[j] = n;
      hnb[j] = h;
    }
    if (ob)
      RNNLAB_SIMD
      for (int64_t j = 0; j < H; ++j) ob[j] = hnb[j];
  }
}

template <typename T>
std::vector<Tensor> gru_forward_impl(const Tensor& gates, const Tensor& w_hh, const Tensor& b_hn,
                                     const Tensor& h0, const Tensor& mask, bool reset_after,
                                     bool reverse, bool train) {
  const int64_t T_ = gates.size(0), B = gates.size(1), H = gates.size(2) / 3, BH = B * H;
  const Walk walk{T_, reverse};
  const T* m = ptr<T>(mask);
  auto [buf, st] = states<T>(h0, walk, train);
  Tensor out = output(buf, mask, walk, train);
  // aux: W_hn h_{t-1} + b_hn (reset_after) or r_t * h_{t-1} (before); one step's when inferring
  Tensor aux_ = gates.new_empty({train ? T_ : 1, B, H});
  const int64_t GA = reset_after ? 3 * H : 2 * H;
  Tensor ah_ = gates.new_zeros({B, GA});  // W_h{r,z(,n)} h_{t-1}
  Tensor an_ = gates.new_zeros({B, H});  // before: W_hn (r_t * h_{t-1})
  Tensor bn_ = b_hn.defined() ? b_hn : gates.new_zeros({H});
  T *g = gates.data_ptr<T>(), *aux = aux_.data_ptr<T>(), *ah = ah_.data_ptr<T>(),
    *an = an_.data_ptr<T>();
  const T* bn = bn_.data_ptr<T>();
  T* o = (train && !mask.defined()) ? nullptr : out.data_ptr<T>();
  const Blocks bl = blocks(B, T_ * 3 * BH * H);
  // reset_after: (rows, H) @ W_hh^T -> (rows, 3H); before: @ W_h{r,z}^T -> (rows, 2H), then
  // @ W_hn^T -> (rows, H)
  const StepGemm<T> gemm_all(reset_after ? w_hh : w_hh.narrow(0, 0, 2 * H), true, bl.rows, T_);
  const StepGemm<T> gemm_n(w_hh.narrow(0, 2 * H, H), true, bl.rows, reset_after ? 0 : T_);
  for_blocks(bl, B, [&](int64_t b0, int64_t b1) {
    for (int64_t k = 0; k < T_; ++k) {
      const int64_t t = walk.step(k);
      T* gt = g + t * 3 * BH;  // (B, 3H)
      const T* h_prev = st.prev(k);
      T* x = aux + (train ? t : 0) * BH;  // (B, H)
      T* ot = o ? o + t * BH : nullptr;
      const T* mt = m ? m + t * B : nullptr;
      // W_hh h_{t-1} (rows, 3H): one GEMM for all three gates (before: W_h{r,z}, (rows, 2H))
      gemm_all(b1 - b0, ah + b0 * GA, GA, h_prev + b0 * H, H, 0.0);
      if (reset_after) {
        gru_cells_after<T>(gt, ah, bn, h_prev, st.next(k), x, ot, mt, b0, b1, H);
      } else {
        gru_cells_before_rz<T>(gt, ah, h_prev, x, b0, b1, H);
        // W_hn (r_t * h_{t-1}) (rows, H): the second, dependent GEMM
        gemm_n(b1 - b0, an + b0 * H, H, x + b0 * H, H, 0.0);
        gru_cells_before_n<T>(gt, an, h_prev, st.next(k), ot, mt, b0, b1, H);
      }
    }
  });
  Tensor h_n = final_state(buf, walk, train);
  if (train) return {out, h_n, buf, aux_};
  return {out, h_n};
}

std::vector<Tensor> gru_forward(const Tensor& gates, const Tensor& w_hh,
                                const std::optional<Tensor>& b_hn, const Tensor& h0,
                                const std::optional<Tensor>& mask, bool reset_after,
                                bool reverse, bool train) {
  check(gates, w_hh, "gates");
  check(h0, w_hh, "h0");
  check_opt(b_hn, w_hh, "b_hn");
  check_opt(mask, w_hh, "mask");
  const Tensor bn = value_or_undefined(b_hn), m = value_or_undefined(mask);
  if (w_hh.scalar_type() == at::kFloat)
    return gru_forward_impl<float>(gates, w_hh, bn, h0, m, reset_after, reverse, train);
  TORCH_CHECK(w_hh.scalar_type() == at::kDouble, "rnnlab native: float32 or float64 only");
  return gru_forward_impl<double>(gates, w_hh, bn, h0, m, reset_after, reverse, train);
}

// reset_after backward on rows [0, B): dh (B, H) holds dL/dh_t and becomes the direct part of
// dL/dh_{t-1}; dgx (B, 3H) gets (da_r, da_z, da_n), dgh (B, 3H) (da_r, da_z, da_n * r_t).
template <typename T>
void gru_cells_after_backward(const T* g, const T* aux, const T* hp, const T* dout, T* dh,
                              T* dgx, T* dgh, T* steps, const T* m, int64_t b0, int64_t b1, int64_t H) {
  for (int64_t b = b0; b < b1; ++b) {
    const T* __restrict gr = g + b * 3 * H;
    const T* __restrict gz = gr + H;
    const T* __restrict gn = gr + 2 * H;
    const T* __restrict xb = aux + b * H;
    const T* __restrict hpb = hp + b * H;
    const T* __restrict dob = dout ? dout + b * H : nullptr;
    T* __restrict dhb = dh + b * H;
    T* __restrict dxr = dgx + b * 3 * H;
    T* __restrict dxz = dxr + H;
    T* __restrict dxn = dxr + 2 * H;
    T* __restrict dhr = dgh + b * 3 * H;
    T* __restrict dhz_ = dhr + H;
    T* __restrict dhn = dhr + 2 * H;
    T* __restrict sb = steps ? steps + b * H : nullptr;
    if (m && m[b] == T(0)) {
      // padded: no gradient into the step, dh passes straight to h_{t-1}
      RNNLAB_SIMD
      for (int64_t j = 0; j < 3 * H; ++j) {
        dxr[j] = T(0);
        dhr[j] = T(0);
      }
      if (sb)
        RNNLAB_SIMD
        for (int64_t j = 0; j < H; ++j) sb[j] = T(0);
      continue;
    }
    if (dob)  // dL/dh~_t = dh_t + dL/dout_t
      RNNLAB_SIMD
      for (int64_t j = 0; j < H; ++j) dhb[j] += dob[j];
    if (sb)
      RNNLAB_SIMD
      for (int64_t j = 0; j < H; ++j) sb[j] = dhb[j];
    RNNLAB_SIMD
    for (int64_t j = 0; j < H; ++j) {
      const T r = gr[j], z = gz[j], n = gn[j], dht = dhb[j];
      // dh_{t-1} (direct) = dh_t z_t
      const T dhz = dht * z;
      // dn_t = dh_t (1 - z_t) ; da_n = dn_t (1 - n_t^2)
      const T dan = (dht - dhz) * (T(1) - n * n);
      // dz_t = dh_t (h_{t-1} - n_t) ; da_z = dz_t z_t (1 - z_t)
      const T daz = dht * (hpb[j] - n) * z * (T(1) - z);
      // dr_t = da_n * (W_hn h_{t-1} + b_hn) ; da_r = dr_t r_t (1 - r_t)
      const T dar = dan * xb[j] * r * (T(1) - r);
      dxr[j] = dar;
      dxz[j] = daz;
      dxn[j] = dan;
      dhr[j] = dar;
      dhz_[j] = daz;
      dhn[j] = dan * r;  // recurrent n pre-activation: da_n * r_t
      dhb[j] = dhz;
    }
  }
}

// reset_before backward, first half: da_n, da_z into dg (B, 3H); dh becomes dh_t z_t.
template <typename T>
void gru_cells_before_backward_nz(const T* g, const T* hp, const T* dout, T* dh, T* dg, T* steps,
                                  const T* m, int64_t b0, int64_t b1, int64_t H) {
  for (int64_t b = b0; b < b1; ++b) {
    const T* __restrict gz = g + b * 3 * H + H;
    const T* __restrict gn = g + b * 3 * H + 2 * H;
    const T* __restrict hpb = hp + b * H;
    const T* __restrict dob = dout ? dout + b * H : nullptr;
    T* __restrict dhb = dh + b * H;
    T* __restrict dr = dg + b * 3 * H;
    T* __restrict dz = dr + H;
    T* __restrict dn = dr + 2 * H;
    T* __restrict sb = steps ? steps + b * H : nullptr;
    if (m && m[b] == T(0)) {
      // padded: da = 0 (so d(r h) = 0 and da_r = 0 in the second half); dh passes straight
      RNNLAB_SIMD
      for (int64_t j = 0; j < 3 * H; ++j) dr[j] = T(0);
      if (sb)
        RNNLAB_SIMD
        for (int64_t j = 0; j < H; ++j) sb[j] = T(0);
      continue;
    }
    if (dob)  // dL/dh~_t = dh_t + dL/dout_t
      RNNLAB_SIMD
      for (int64_t j = 0; j < H; ++j) dhb[j] += dob[j];
    if (sb)
      RNNLAB_SIMD
      for (int64_t j = 0; j < H; ++j) sb[j] = dhb[j];
    RNNLAB_SIMD
    for (int64_t j = 0; j < H; ++j) {
      const T z = gz[j], n = gn[j], dht = dhb[j];
      const T dhz = dht * z;
      // dn_t = dh_t (1 - z_t) ; da_n = dn_t (1 - n_t^2)
      dn[j] = (dht - dhz) * (T(1) - n * n);
      // dz_t = dh_t (h_{t-1} - n_t) ; da_z = dz_t z_t (1 - z_t)
      dz[j] = dht * (hpb[j] - n) * z * (T(1) - z);
      dhb[j] = dhz;  // dh_{t-1} = dh_t z_t + ...
    }
  }
}

// reset_before backward, second half: drh (B, H) = d(r h)_t = da_n W_hn.
template <typename T>
void gru_cells_before_backward_r(const T* g, const T* hp, const T* drh, T* dh, T* dg, int64_t b0, int64_t b1,
                                 int64_t H) {
  for (int64_t b = b0; b < b1; ++b) {
    const T* __restrict gr = g + b * 3 * H;
    const T* __restrict hpb = hp + b * H;
    const T* __restrict d = drh + b * H;
    T* __restrict dhb = dh + b * H;
    T* __restrict dr = dg + b * 3 * H;
    RNNLAB_SIMD
    for (int64_t j = 0; j < H; ++j) {
      const T r = gr[j];
      // dr_t = d(r h)_t * h_{t-1} ; da_r = dr_t r_t (1 - r_t)
      dr[j] = d[j] * hpb[j] * r * (T(1) - r);
      // dh_{t-1} += d(r h)_t r_t
      dhb[j] += d[j] * r;
    }
  }
}

template <typename T>
Tensor gru_backward_impl(const Tensor& dout, const Tensor& dh_n, const Tensor& gates,
                         const Tensor& hs, const Tensor& aux, const Tensor& w_hh,
                         const Tensor& mask, bool reset_after, bool reverse, const Tensor& dgates,
                         const Tensor& dgates_h, const Tensor& steps) {
  const int64_t T_ = gates.size(0), B = gates.size(1), H = gates.size(2) / 3, BH = B * H;
  const Walk walk{T_, reverse};
  const T* m = ptr<T>(mask);
  const T *g = gates.data_ptr<T>(), *h = hs.data_ptr<T>(), *x = aux.data_ptr<T>(),
          *d = ptr<T>(dout);
  T *dgx = dgates.data_ptr<T>(), *dgh = ptr<T>(dgates_h), *s = ptr<T>(steps);
  Tensor dh_ = dh_n.defined() ? dh_n.clone() : gates.new_zeros({B, H});  // dL/dh_t, running
  Tensor drh_ = gates.new_zeros({B, H});  // before: d(r h)_t
  T *dh = dh_.data_ptr<T>(), *drh = drh_.data_ptr<T>();
  const Blocks bl = blocks(B, T_ * 3 * BH * H);
  // reset_after: (rows, 3H) @ W_hh -> (rows, H); before: (rows, 2H) @ W_h{r,z}, (rows, H) @ W_hn
  const StepGemm<T> gemm_all(reset_after ? w_hh : w_hh.narrow(0, 0, 2 * H), false, bl.rows, T_);
  const StepGemm<T> gemm_n(w_hh.narrow(0, 2 * H, H), false, bl.rows, reset_after ? 0 : T_);
  for_blocks(bl, B, [&](int64_t b0, int64_t b1) {
    const int64_t rows = b1 - b0;
    for (int64_t k = T_ - 1; k >= 0; --k) {
      const int64_t t = walk.step(k);
      const T* gt = g + t * 3 * BH;
      const T* h_prev = h + walk.prev(t) * BH;
      T* dgt = dgx + t * 3 * BH;  // (B, 3H)
      const T* dt = d ? d + t * BH : nullptr;
      T* stp = s ? s + t * BH : nullptr;
      const T* mt = m ? m + t * B : nullptr;
      if (reset_after) {
        T* dght = dgh + t * 3 * BH;
        gru_cells_after_backward<T>(gt, x + t * BH, h_prev, dt, dh, dgt, dght, stp, mt, b0, b1,
                                    H);
        // dh_{t-1} = dh_t z_t + da^h_t W_hh
        gemm_all(rows, dh + b0 * H, H, dght + b0 * 3 * H, 3 * H, 1.0);
      } else {
        gru_cells_before_backward_nz<T>(gt, h_prev, dt, dh, dgt, stp, mt, b0, b1, H);
        // d(r h)_t = da_n W_hn
        gemm_n(rows, drh + b0 * H, H, dgt + b0 * 3 * H + 2 * H, 3 * H, 0.0);
        gru_cells_before_backward_r<T>(gt, h_prev, drh, dh, dgt, b0, b1, H);
        // dh_{t-1} = dh_t z_t + d(r h)_t r_t + da_{r,z} W_h{r,z}
        gemm_all(rows, dh + b0 * H, H, dgt + b0 * 3 * H, 3 * H, 1.0);
      }
    }
  });
  return dh_;
}

Tensor gru_backward(const std::optional<Tensor>& dout, const std::optional<Tensor>& dh_n,
                    const Tensor& gates, const Tensor& hs, const Tensor& aux, const Tensor& w_hh,
                    const std::optional<Tensor>& mask, bool reset_after, bool reverse,
                    const Tensor& dgates, const std::optional<Tensor>& dgates_h,
                    const std::optional<Tensor>& steps) {
  check(gates, w_hh, "gates");
  check(hs, w_hh, "hs");
  check(aux, w_hh, "aux");
  check(dgates, w_hh, "dgates");
  check_opt(dout, w_hh, "dout");
  check_opt(dh_n, w_hh, "dh_n");
  check_opt(mask, w_hh, "mask");
  check_opt(dgates_h, w_hh, "dgates_h");
  check_opt(steps, w_hh, "steps");
  TORCH_CHECK(!reset_after || (dgates_h.has_value() && dgates_h->defined()),
              "rnnlab native: reset_after needs dgates_h");
  const Tensor d = value_or_undefined(dout), dh = value_or_undefined(dh_n),
               m = value_or_undefined(mask), dgh = value_or_undefined(dgates_h),
               s = value_or_undefined(steps);
  if (w_hh.scalar_type() == at::kFloat)
    return gru_backward_impl<float>(d, dh, gates, hs, aux, w_hh, m, reset_after, reverse, dgates,
                                    dgh, s);
  TORCH_CHECK(w_hh.scalar_type() == at::kDouble, "rnnlab native: float32 or float64 only");
  return gru_backward_impl<double>(d, dh, gates, hs, aux, w_hh, m, reset_after, reverse, dgates,
                                   dgh, s);
}

// Whether the float32 loops use MKL's packed GEMM; returns whether they can (tests run both).
bool use_mkl_packed(bool enable) {
  g_use_packed = enable;
  return mkl_packed_available();
}

}  // namespace

TORCH_LIBRARY(rnnlab_native, lib) {
  lib.def("use_mkl_packed(bool enable) -> bool", &use_mkl_packed);
  lib.def(
      "rnn_forward(Tensor(a!) gates, Tensor w_hh, Tensor h0, Tensor? mask, bool relu, "
      "bool reverse, bool train) -> Tensor[]",
      &rnn_forward);
  lib.def(
      "rnn_backward(Tensor? dout, Tensor? dh_n, Tensor gates, Tensor w_hh, Tensor? mask, "
      "bool relu, bool reverse, Tensor(a!) dgates, Tensor(b!)? steps) -> Tensor",
      &rnn_backward);
  lib.def(
      "lstm_forward(Tensor(a!) gates, Tensor w_hh, Tensor h0, Tensor c0, Tensor? mask, "
      "bool reverse, bool train) -> Tensor[]",
      &lstm_forward);
  lib.def(
      "lstm_backward(Tensor? dout, Tensor? dh_n, Tensor? dc_n, Tensor gates, Tensor hs, "
      "Tensor cs, Tensor w_hh, Tensor? mask, bool reverse, Tensor(a!) dgates, "
      "Tensor(b!)? steps) -> Tensor[]",
      &lstm_backward);
  lib.def(
      "gru_forward(Tensor(a!) gates, Tensor w_hh, Tensor? b_hn, Tensor h0, Tensor? mask, "
      "bool reset_after, bool reverse, bool train) -> Tensor[]",
      &gru_forward);
  lib.def(
      "gru_backward(Tensor? dout, Tensor? dh_n, Tensor gates, Tensor hs, Tensor aux, "
      "Tensor w_hh, Tensor? mask, bool reset_after, bool reverse, Tensor(a!) dgates, "
      "Tensor(b!)? dgates_h, Tensor(c!)? steps) -> Tensor",
      &gru_backward);
}
