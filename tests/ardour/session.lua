-- Drives Ardour 7 headless (ardour7-lua) for tests/ardour/test_ardour.py: makes a session with
-- Pixelody's VST3 on a MIDI track, or loads a saved one, and exports it to a WAV file.
-- Everything comes from environment variables (ardour7-lua passes no arguments to scripts):
--   PIXELODY_SESSION   folder of the session; its name is the folder's last component
--   PIXELODY_NEW       "1": create the session (else load it)
--   PIXELODY_BPM       tempo of a new session
--   PIXELODY_METER     time signature of a new session, "3/4" (optional; 4/4 by default)
--   PIXELODY_SETTLE    seconds the engine runs before the export (optional), so the plug-in has
--                      heard the session's meter and recomposed in it
--   PIXELODY_VST3_DIR  folder holding Pixelody.vst3 (scanned beforehand)
--   PIXELODY_AUTOMATE  "NAME SAMPLE VALUE": automate parameter NAME, stepping to VALUE (a fraction
--                      of its range) at SAMPLE (optional)
--   PIXELODY_SAVE      "1": save the session before exporting
--   PIXELODY_EXPORT    the WAV file to write (16-bit, the session's rate)
--   PIXELODY_SAMPLES   how many samples to export from the session start
-- It prints "exported" when the export is complete, then leaves without Ardour's teardown, which
-- in 7.3 sometimes aborts after a finished export.

local function env(name)
  local v = os.getenv(name)
  if v == nil or v == "" then return nil end
  return v
end

local dir = assert(env("PIXELODY_SESSION"), "PIXELODY_SESSION is not set")
local name = dir:match("([^/]+)/*$")
local samples = assert(tonumber(env("PIXELODY_SAMPLES")), "PIXELODY_SAMPLES is not set")

ARDOUR.config():set_hide_dummy_backend(false)
if env("PIXELODY_VST3_DIR") then
  ARDOUR.config():set_plugin_path_vst3(env("PIXELODY_VST3_DIR"))
end
assert(AudioEngine:set_backend("None (Dummy)", "", ""), "no dummy backend")

local s
if env("PIXELODY_NEW") == "1" then
  s = create_session(dir, name, 48000)
  assert(s, "could not create the session")
  local tm = Temporal.TempoMap.fetch_writable()
  if env("PIXELODY_METER") then
    local n, d = env("PIXELODY_METER"):match("^(%d+)/(%d+)$")
    tm:set_meter(Temporal.Meter(tonumber(n), tonumber(d)), Temporal.timepos_t(0))
  end
  tm:set_tempo(Temporal.Tempo(tonumber(env("PIXELODY_BPM")), tonumber(env("PIXELODY_BPM")), 4), Temporal.timepos_t(0))
  Temporal.TempoMap.update(tm)
  local info = ARDOUR.LuaAPI.new_plugin_info("Pixelody", ARDOUR.PluginType.VST3)
  assert(not info:isnil(), "Ardour does not know Pixelody's VST3 (was it scanned?)")
  local tracks = s:new_midi_track(
    ARDOUR.ChanCount(ARDOUR.DataType("midi"), 1), ARDOUR.ChanCount(ARDOUR.DataType("audio"), 2),
    true, info, nil, nil, 1, "Pixelody", ARDOUR.PresentationInfo.max_order,
    ARDOUR.TrackMode.Normal, true, false)
  assert(tracks:size() == 1, "no track")
  -- Ardour connects a new track to the master bus from another thread: a session saved before
  -- that happened reopened with the track unconnected and exported silence (seen in CI). Wait
  -- for the connection (at most 5 s) so a saved session plays.
  local out = tracks:front():output()
  local connected = function() return out:audio(0):connected() and out:audio(1):connected() end
  for _ = 1, 250 do
    if connected() then break end
    ARDOUR.LuaAPI.usleep(20000)
  end
  assert(connected(), "the track is not connected to the master bus")
else
  s = load_session(dir, name)
  assert(s, "could not load the session")
end

local track = s:get_tracks():table()[1]:to_track()
local insert = nil
for i = 0, 16 do
  local p = track:nth_plugin(i)
  if p:isnil() then break end
  if p:name():find("Pixelody") then insert = p:to_insert() end
end
assert(insert, "Pixelody is not on the track")
local plugin = insert:plugin(0)

-- PIXELODY_LIST_PRESETS: a preset's label: print the program list Ardour's preset menu offers
-- ("preset<TAB>label<TAB>uri"), found from that preset's URI ("VST3-P:<id>:<index>": Ardour's
-- Lua reaches presets by label or URI only).
if env("PIXELODY_LIST_PRESETS") then
  local first = plugin:preset_by_label(env("PIXELODY_LIST_PRESETS"))
  assert(first, "no preset " .. env("PIXELODY_LIST_PRESETS"))
  print("uri\t" .. first.uri)
  local stem = first.uri:match("^(VST3%-P:.*:)%d+$")
  assert(stem, "not a VST3 program: " .. first.uri)
  for i = 0, 127 do
    local r = plugin:preset_by_uri(stem .. string.format("%04d", i))
    if not r then break end
    print("preset\t" .. r.label .. "\t" .. r.uri)
  end
end
-- PIXELODY_LOAD_PRESET: a preset's label, loaded as Ardour's preset menu loads it (for a VST3
-- program: the program change parameter, on the edit controller and to the processor).
if env("PIXELODY_LOAD_PRESET") then
  local r = plugin:preset_by_label(env("PIXELODY_LOAD_PRESET"))
  assert(r, "no preset " .. env("PIXELODY_LOAD_PRESET"))
  assert(plugin:load_preset(r), "the preset did not load")
  print("loaded\t" .. r.label)
end

local automate = env("PIXELODY_AUTOMATE")
if automate then
  local pname, at, value = automate:match("^(.-) (%d+) ([%d.]+)$")
  at, value = tonumber(at), tonumber(value)
  local found = nil
  for i = 0, plugin:parameter_count() - 1 do
    if plugin:parameter_label(i) == pname then found = i end
  end
  assert(found, "no parameter " .. pname)
  local control = insert:to_automatable():automation_control(
    Evoral.Parameter(ARDOUR.AutomationType.PluginAutomation, 0, found), true)
  -- VALUE is a fraction of the parameter's range (Ardour automates VST3 parameters in their
  -- plain units); before SAMPLE the lane holds the parameter's current value.
  local before = control:get_value()
  local target = control:lower() + value * (control:upper() - control:lower())
  local list = control:alist()
  list:editor_add(Temporal.timepos_t(0), before, false)
  list:editor_add(Temporal.timepos_t(at - 64), before, false)
  list:editor_add(Temporal.timepos_t(at), target, false)
  value = target
  -- editor_add, as a click in the editor: `add` thins points on a straight line (the plateau's
  -- end), which turned the step into a ramp from the session start.
  control:set_automation_state(ARDOUR.AutoState.Play)
  print("automated", pname, found, before, "->", value, "at", at, "points", list:size(),
    list:eval(Temporal.timepos_t(at - 100)), list:eval(Temporal.timepos_t(at + 100)))
end

if env("PIXELODY_SETTLE") then
  ARDOUR.LuaAPI.usleep(math.floor(tonumber(env("PIXELODY_SETTLE")) * 1000000))
end

if env("PIXELODY_SAVE") == "1" then
  s:save_state("", false, false, false, false, false)
end

local out = assert(env("PIXELODY_EXPORT"), "PIXELODY_EXPORT is not set")
local folder, file = out:match("^(.*)/([^/]+)%.wav$")
local export = s:simple_export()
export:set_name(file)
export:set_folder(folder)
-- PIXELODY_PRESET: an export preset's id (the test installs a 32-bit float one without dither,
-- tests/ardour/pixelody-float.preset); by default Ardour's "WAV @ session-rate" (16 bit).
local preset = env("PIXELODY_PRESET") or "75969a1c-3133-4694-864b-a1fa50e43348"
assert(export:set_preset(preset), "no export preset " .. preset)
export:set_range(0, samples)
assert(export:run_export(), "the export failed")
print("exported")
io.stdout:flush()
os.exit(0)
