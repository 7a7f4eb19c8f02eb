#pragma once
// An entry in one of the run's registries (device models, link types) for as long as the object
// lives: a static object in a driver's own file or a plugin registers at load, and a test or a host
// scopes one to a block.
#include <string>
#include <utility>

namespace zhil {

template <class Registry, class Entry>
class Registration {
 public:
  Registration(std::string name, Entry entry) : name_(std::move(name)) {
    Registry::instance().add(name_, std::move(entry));
  }
  ~Registration() { Registry::instance().remove(name_); }
  Registration(const Registration&) = delete;
  Registration& operator=(const Registration&) = delete;

 private:
  std::string name_;
};

}  // namespace zhil
