import type { Signal } from "@preact/signals";

/** A labelled free-text filter bound to a signal (the programme's and the hall's search). */
export function SearchField(props: {
  id: string;
  label: string;
  placeholder: string;
  value: Signal<string>;
}) {
  return (
    <div class="field">
      <label for={props.id}>{props.label}</label>
      <input
        id={props.id}
        type="search"
        placeholder={props.placeholder}
        value={props.value.value}
        onInput={(e) => {
          props.value.value = e.currentTarget.value;
        }}
      />
    </div>
  );
}
