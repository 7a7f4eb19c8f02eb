#pragma once
// Where the SunSpec models of one device are: found by discovery on a real device (the standard
// way: the 'SunS' marker at 40000, else 0, else 50000, then the chain of model ID / length headers
// to the end marker 0xFFFF), or laid out by a simulator that presents models. A register map's
// SunSpec points are resolved against it to addresses, and a map the device cannot serve is
// refused naming the model or point it lacks.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "devices/modbus/register_map.hpp"
#include "devices/modbus/sunspec_models.hpp"
#include "harness/status.hpp"

namespace zhil::modbus {

struct ModelInstance {
  int id = 0;
  int address = 0;  // of its ID register
  int length = 0;   // L: registers after the ID and L
};

struct SunSpecLayout {
  int base = 40000;  // where 'SunS' is
  std::vector<ModelInstance> models;
  int end = 0;  // address of the end marker's ID
  const ModelInstance* find(int id) const;
  std::string describe() const;  // "SunS at 40000: 1 (66), 701 (153), ..."
};

// Discovery as a sequence of reads: next() says what to read, feed() takes the answer. The driver
// runs it on its transport; a test or a fuzzer feeds it registers directly.
class SunSpecDiscovery {
 public:
  struct Read {
    int address;
    int count;
  };
  SunSpecDiscovery();
  // The next read, or nullopt when done (then result() or error()).
  std::optional<Read> next() const;
  // The registers answering next(), or failed = true if the read failed (an exception at a base
  // address moves on to the next base; a failure inside the chain ends discovery with an error).
  void feed(bool failed, const std::vector<std::uint16_t>& regs, const std::string& why = "");
  bool done() const { return done_; }
  const SunSpecLayout& result() const { return layout_; }
  const std::string& error() const { return error_; }

 private:
  static constexpr int kBases[3] = {40000, 0, 50000};
  int base_index_ = 0;
  bool found_base_ = false;
  int cursor_ = 0;  // next model header
  bool done_ = false;
  SunSpecLayout layout_;
  std::string error_;
  std::vector<std::string> tried_;
};

// A layout of the given models back to back from `base`, as a simulator presents them.
SunSpecLayout lay_out_models(const SunSpecModelSet& set, const std::vector<int>& ids, int base = 40000);

// The map's entries with addresses on this layout (a copy). Error naming the first required model
// the device lacks, or a required point past the end of the device's model (a shorter revision).
Status resolve_map(const RegisterMap& map, const SunSpecLayout& layout, RegisterMap* out);

}  // namespace zhil::modbus
