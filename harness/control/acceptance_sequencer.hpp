#pragma once
// The acceptance sequencer: the control core of a pack's acceptance test, not an energy manager.
// It cycles every pack of the station through a fixed schedule, each pack's inverter commanded at
// the product's rated power per pack:
//
//   [0, precondition_until)            discharge to empty (the BMS and the envelope stop it)
//   [charge_from, charge_until)        charge to full at rated power
//   [discharge_from, discharge_until)  discharge to empty at rated power: the capacity
//   strip_at                           ask for a maintenance strip, until the pack starts it
//   otherwise                          rest (0 W)
//
// Contactors are commanded closed throughout and never cycled: a protection trip stays latched
// open, as the gate wants to see it. Windows are fixed in time so that the scenario's
// measurements can integrate over them; each is long enough for any pack within its limits to
// finish early and rest (a faded pack simply finishes sooner, and measures less).
#include <vector>

#include "harness/control_core.hpp"

namespace zhil {

class AcceptanceSequencer final : public ControlCore {
 public:
  void configure(const CoreContext& context, CoreIo& io) override;
  void step(Time now, CoreIo& io) override;
  bool checkpointable() const override { return true; }
  void save_state(StateWriter& a) const override;
  void load_state(StateReader& a) override;

 private:
  struct Pack {
    SignalId contactor_cmd, strip_request, stripping;
    bool strip_started = false;
  };
  struct Inverter {
    SignalId p_set;
    std::vector<Pack> packs;
  };
  template <class Archive>
  void state(Archive& a);
  std::vector<Inverter> inverters_;
  double power_w_ = 0;  // per pack
  double precondition_until_ = 0, charge_from_ = 0, charge_until_ = 0, discharge_from_ = 0, discharge_until_ = 0;
  double strip_at_ = -1;  // < 0: no strip
};

}  // namespace zhil
