#pragma once
// The utility grid at the point of common coupling, as a grid emulator would present it: voltage
// (per unit), frequency, and outage. During an outage the utility side reads 0 V and 0 Hz.
namespace zhil::sim {

class GridModel {
 public:
  explicit GridModel(double f_nominal_hz) : f_nominal_(f_nominal_hz), f_set_(f_nominal_hz) {}
  void set_voltage_pu(double v) { v_set_ = v; }
  void set_frequency(double f) { f_set_ = f; }
  void set_outage(bool out) { outage_ = out; }
  // A grid emulator's safe state is its nominal output: the bench's power devices are what must stop.
  void enter_safe_state() {}
  void leave_safe_state() {}

  bool available() const { return !outage_ && v_set_ > 0.05; }
  double v_pu() const { return outage_ ? 0.0 : v_set_; }
  double f_hz() const { return available() ? f_set_ : 0.0; }
  double f_nominal() const { return f_nominal_; }

  // Set by the site each step.
  double p_import_w = 0;

  template <class Archive>
  void state(Archive& a) {
    a(v_set_, f_set_, outage_, p_import_w);
  }

 private:
  double f_nominal_;
  double v_set_ = 1.0;
  double f_set_;
  bool outage_ = false;
};

}  // namespace zhil::sim
