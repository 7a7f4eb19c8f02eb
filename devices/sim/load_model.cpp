#include "devices/sim/load_model.hpp"

namespace zhil::sim {

void LoadModel::observe_voltage(double dt, double v) {
  if (backup_left_s_ > 0) {
    backup_left_s_ -= dt;
    return;
  }
  if (!p_.itic) return;
  auto track = [dt](double& t, bool cond) { t = cond ? t + dt : 0.0; };
  track(below_70_, v < 0.7);
  track(below_80_, v < 0.8);
  track(below_90_, v < 0.9);
  track(above_110_, v > 1.1);
  track(above_120_, v > 1.2);
  // ITIC lower curve: 0 % for 20 ms, 70 % to 0.5 s, 80 % to 10 s, 90 % indefinitely; upper: 120 %
  // to 0.5 s, 110 % indefinitely. Outside it the power supplies drop out and the load transfers.
  const bool outside = below_70_ > 0.02 || below_80_ > 0.5 || below_90_ > 10.0 || above_120_ > 0.003 ||
                       above_110_ > 0.5;
  if (outside) {
    backup_left_s_ = p_.backup_hold_s;
    below_70_ = below_80_ = below_90_ = above_110_ = above_120_ = 0;
  }
}

}  // namespace zhil::sim
