// Tiny helper used by gen_random_fixtures.py: the Python binding of mlx does
// not expose mx.random.bits, so we call the C++ API of the very same libmlx.so
// that ships inside the installed `mlx` wheel.
//
// Build (done automatically by gen_random_fixtures.py):
//   g++ -std=c++20 -O1 -I$MLX/include mlx_bits_helper.cpp -L$MLX/lib -lmlx \
//       -Wl,-rpath,$MLX/lib -o mlx_bits_helper
//
// Protocol: one request per stdin line, one response per stdout line.
//   request : <width> <k0,k1[,k0,k1...]> <key_shape> <shape>
//             shapes are comma separated dims, '-' for the scalar shape [].
//             key_shape "2" => plain random::bits(shape, width, key)
//             key_shape "B,2" => vmap over the B keys (batched keys)
//             key_shape "B,C,2" => vmap(vmap(...)) over B then C.
//   response: "OK <version> <out_shape|-> <hex values...>" or "ERR <message>"
#include <cstdio>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "mlx/mlx.h"

namespace mx = mlx::core;

static std::vector<long long> parse_list(const std::string& s) {
  std::vector<long long> v;
  if (s == "-") return v;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) v.push_back(std::stoll(item));
  return v;
}

int main() {
  std::string line;
  while (std::getline(std::cin, line)) {
    if (line.empty()) continue;
    std::stringstream ls(line);
    std::string w_s, k_s, ks_s, sh_s;
    ls >> w_s >> k_s >> ks_s >> sh_s;
    try {
      int width = std::stoi(w_s);
      auto kw = parse_list(k_s);
      auto ksh = parse_list(ks_s);
      auto sh = parse_list(sh_s);
      std::vector<uint32_t> kwu(kw.begin(), kw.end());
      mx::Shape kshape(ksh.begin(), ksh.end());
      mx::Shape shape(sh.begin(), sh.end());
      mx::array keys(kwu.begin(), kshape, mx::uint32);
      std::function<mx::array(const mx::array&)> fn =
          [shape, width](const mx::array& k) {
            return mx::random::bits(shape, width, k);
          };
      mx::array out = keys;
      if (kshape.size() == 1) {
        out = fn(keys);
      } else if (kshape.size() == 2) {
        out = mx::vmap(fn)(keys);
      } else if (kshape.size() == 3) {
        out = mx::vmap(mx::vmap(fn))(keys);
      } else {
        throw std::invalid_argument("helper: unsupported key rank");
      }
      out = mx::contiguous(out);
      out.eval();
      std::ostringstream os;
      os << "OK " << mx::version() << " ";
      if (out.ndim() == 0) {
        os << "-";
      } else {
        for (size_t i = 0; i < out.ndim(); ++i)
          os << (i ? "," : "") << out.shape(i);
      }
      char buf[16];
      for (size_t i = 0; i < out.size(); ++i) {
        if (out.dtype() == mx::uint32) {
          snprintf(buf, sizeof buf, " %08x", out.data<uint32_t>()[i]);
        } else if (out.dtype() == mx::uint16) {
          snprintf(buf, sizeof buf, " %04x", out.data<uint16_t>()[i]);
        } else {
          snprintf(buf, sizeof buf, " %02x", out.data<uint8_t>()[i]);
        }
        os << buf;
      }
      std::cout << os.str() << "\n";
    } catch (const std::exception& e) {
      std::string m = e.what();
      for (auto& c : m) if (c == '\n' || c == '\t') c = ' ';
      std::cout << "ERR " << m << "\n";
    }
    std::cout.flush();
  }
  return 0;
}
