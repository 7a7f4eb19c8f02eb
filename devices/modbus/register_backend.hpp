#pragma once
// What a Modbus server serves: the registers of each unit it answers for, which addresses exist and
// which may be written with what. A simulator implements it over its model (simulator_registers);
// the server (modbus_tcp_server, modbus_rtu_server) knows only the protocol.
#include <cstdint>

#include "devices/modbus/register_map.hpp"

namespace zhil::modbus {

class RegisterBackend {
 public:
  virtual ~RegisterBackend() = default;
  virtual bool has_unit(int unit) const = 0;
  // Brings the unit's registers up to date before they are read (the model's values now).
  virtual void refresh(int unit) = 0;
  virtual RegisterWindow& window(int unit) = 0;
  // 0, or the exception code to answer: 2 for an address the device does not have (or a write to
  // one it does not let be written), 3 for a value it does not accept.
  virtual int check_read(int unit, int address, int count) const = 0;
  virtual int check_write(int unit, int address, const std::uint16_t* values, int count) const = 0;
  // The registers took written values: the device acts on them.
  virtual void written(int unit, int address, int count) = 0;
};

}  // namespace zhil::modbus
