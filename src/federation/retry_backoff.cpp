#include "federation/retry_backoff.h"

#include <algorithm>

namespace herald::federation {

std::chrono::milliseconds RetryBackoff::failed(double random) {
  ++failures_;
  using ms = std::chrono::milliseconds;
  const ms floor = std::max(options_.min, ms(1));
  const ms ceiling = std::max(options_.max, floor);
  if (interval_.count() == 0) {
    interval_ = floor;
  } else {
    const double next = static_cast<double>(interval_.count()) * std::max(options_.multiplier, 1.0);
    interval_ = next >= static_cast<double>(ceiling.count()) ? ceiling : ms(static_cast<std::int64_t>(next));
  }
  // ±20%, never below 1 ms.
  const double factor = 0.8 + 0.4 * std::clamp(random, 0.0, 1.0);
  return std::max(ms(1), ms(static_cast<std::int64_t>(static_cast<double>(interval_.count()) * factor)));
}

}  // namespace herald::federation
