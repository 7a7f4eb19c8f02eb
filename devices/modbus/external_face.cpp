#include "devices/modbus/external_face.hpp"

#include <algorithm>

#include "harness/device_roles.hpp"

namespace zhil::modbus {

void ExternalFace::bind(SignalTable* table, Clock* clock, const std::string& device) {
  table_ = table;
  clock_ = clock;
  device_ = device;
  requests_.clear();
}

std::vector<std::pair<std::size_t, double>> ExternalFace::decode(int unit, int address, const std::uint16_t* values,
                                                                 int count) const {
  RegisterWindow scratch = const_cast<SimulatorRegisters&>(inner_).window(unit);
  std::copy(values, values + count, scratch.at(address, count).begin());
  std::vector<std::pair<std::size_t, double>> out;
  for (std::size_t k = 0; k < map_.entries.size(); ++k) {
    const MapEntry& e = map_.entries[k];
    if (!e.resolved() || e.role != EntryRole::writes || e.address >= address + count || e.address + e.format.words <= address)
      continue;
    Decoded d;
    if (decode_entry(e, scratch, sf_power_of(e, scratch), percent_base_of(map_, e, scratch), &d) && d.present)
      out.push_back({k, d.value});
  }
  return out;
}

int ExternalFace::check_write(int unit, int address, const std::uint16_t* values, int count) const {
  if (int code = inner_.check_write(unit, address, values, count)) {
    ++refused_;
    return code;
  }
  if (!table_) {
    ++refused_;
    return 4;  // no run: the device does not take commands
  }
  // A power setpoint beyond what the envelope lets this inverter give or take now.
  for (const auto& [k, v] : decode(unit, address, values, count)) {
    const MapEntry& e = map_.entries[k];
    if (e.signal != roles::inverter::p_set) continue;
    const SignalId dis = table_->find(device_ + "." + roles::inverter::p_limit_discharge);
    const SignalId ch = table_->find(device_ + "." + roles::inverter::p_limit_charge);
    if (dis == kNoSignal || ch == kNoSignal) continue;
    if (v > table_->value(dis) || v < -table_->value(ch)) {
      ++refused_;
      return 3;
    }
  }
  return 0;
}

void ExternalFace::written(int unit, int address, int count) {
  if (!table_ || !clock_) return;
  const RegisterWindow& w = inner_.window(unit);
  for (const auto& [k, v] : decode(unit, address, w.at(address, count).data(), count)) {
    const SignalId id = table_->find(device_ + "." + map_.entries[k].signal);
    if (id == kNoSignal) continue;
    requests_.emplace_back(id, v);
    ++accepted_;
  }
}

void ExternalFace::take_requests() {
  if (!table_ || !clock_) return;
  // The requests, as a core writes them: the envelope bounds them and the driver applies them.
  for (const auto& [id, v] : requests_) table_->set(id, v, clock_->now());
  requests_.clear();
}

}  // namespace zhil::modbus
