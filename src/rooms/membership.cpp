#include "rooms/membership.h"

namespace herald::rooms {

std::optional<Membership> parse_membership(std::string_view text) {
  if (text == "join") return Membership::join;
  if (text == "invite") return Membership::invite;
  if (text == "leave") return Membership::leave;
  if (text == "ban") return Membership::ban;
  if (text == "knock") return Membership::knock;
  return std::nullopt;
}

std::string_view to_string(Membership m) {
  switch (m) {
    case Membership::join: return "join";
    case Membership::invite: return "invite";
    case Membership::leave: return "leave";
    case Membership::ban: return "ban";
    case Membership::knock: return "knock";
  }
  return "leave";
}

}  // namespace herald::rooms
