// Each condition a pack can attach (rules/*.yaml `conditions:`), in plain words, with what
// the exporter has to do before the data may leave.
export const CONDITIONS = {
  mask_zones: {
    title: "Mask the sensitive zones",
    todo: "Remove or blank out every feature and pixel inside the sensitive zones the data touches, then check the masked file again.",
  },
  coarsen_resolution: {
    title: "Make the data coarser",
    todo: "Resample imagery (or generalise vectors) to at least the threshold the finding names, then check the new file again.",
  },
  strip_coordinates: {
    title: "Remove coordinates of security facilities",
    todo: "Delete positions and coordinate attributes that locate security facilities; keep only what the permit allows.",
  },
  drop_contours: {
    title: "Remove the contour lines",
    todo: "Drop contour and elevation-line layers from the dataset before export.",
  },
  strip_sensitive_attributes: {
    title: "Remove sensitive attributes",
    todo: "Delete the names, labels and attributes that describe sensitive installations.",
  },
  store_in_india: {
    title: "Keep the data in India",
    todo: "Store and process the data on servers in India; others may reach it only through services that keep it there.",
  },
};

export function describeCondition(code) {
  return (
    CONDITIONS[code] || {
      title: code,
      todo: "A condition this page has no description for: ask the reviewer what it requires.",
    }
  );
}
