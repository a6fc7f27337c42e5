import type { Signal } from "@preact/signals";

/** A labelled checkbox bound to a boolean signal. */
export function Checkbox(props: {
  id: string;
  label: string;
  value: Signal<boolean>;
  hidden?: boolean;
  /** Ids of the help or error text that describes it. */
  describedBy?: string | undefined;
  invalid?: boolean;
}) {
  return (
    <div class="field checkbox" hidden={props.hidden}>
      <input
        id={props.id}
        type="checkbox"
        checked={props.value.value}
        aria-describedby={props.describedBy}
        aria-invalid={props.invalid ? true : undefined}
        onChange={(e) => {
          props.value.value = e.currentTarget.checked;
        }}
      />
      <label for={props.id}>{props.label}</label>
    </div>
  );
}
